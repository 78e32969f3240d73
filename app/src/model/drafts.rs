//! Forms' values kept across a refusal, so the page shows again what the person typed.

/// A form's values as the person sent them, shown again with the refusal so nothing typed is
/// lost. `form` names the form (e.g. score, decision, item-12, assess, rubric).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormDraft {
    pub form: String,
    pub fields: Vec<(String, String)>,
}

impl FormDraft {
    /// The value sent for `name` if this draft belongs to `form`.
    pub fn value(draft: &Option<FormDraft>, form: &str, name: &str) -> Option<String> {
        draft
            .as_ref()
            .filter(|d| d.form == form)
            .and_then(|d| d.fields.iter().find(|(k, _)| k == name))
            .map(|(_, v)| v.clone())
    }
}
