//! `/grades`: the production-readiness grade, where every point comes from, what moves it most,
//! its trend, and (for admins) the assessment and override forms. `/grades/history` too.

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::components::forms::CsrfField;
use crate::components::widgets::TimeAgo;
use crate::model::drafts::FormDraft;
use crate::model::grade::{CategoryView, GradeSnapshot, GradeView, ScoreSource};

#[derive(Clone, Debug)]
pub struct GradesView {
    pub grade: GradeView,
    pub chart_svg: String,
    /// Each category's trend.
    pub categories_svg: String,
    pub can_edit: bool,
    pub error: Option<String>,
    /// The values of a refused form, shown again.
    pub draft: Option<FormDraft>,
    pub now: OffsetDateTime,
}

#[component]
pub fn GradesPage(data: GradesView) -> impl IntoView {
    let GradesView {
        grade,
        chart_svg,
        categories_svg,
        can_edit,
        error,
        draft,
        now,
    } = data;
    let categories = grade.categories.clone();
    let rows = grade
        .categories
        .into_iter()
        .map(|c| view! { <CategoryRow c=c now=now/> })
        .collect_view();
    let gaps = grade
        .gaps
        .into_iter()
        .map(|g| {
            view! {
                <tr>
                    <th scope="row">{g.category.clone()}</th>
                    <td class="num">{format!("+{}", g.gain)}</td>
                    <td>{format!("({} − {}) × {} = +{} points", g.target, g.current, g.weight, g.gain)}</td>
                    <td>{g.why}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h1>"Grades"</h1>
        {error.map(|e| view! { <p class="notice error-text" role="alert">{e}</p> })}
        <section class="grade-summary" aria-label="Current grade">
            <p class="big">{grade.total.clone()}<small>" / 100"</small></p>
            <p class="letter">{grade.letter.clone()}</p>
            {grade.cap.clone().map(|cap| view! {
                <p class="notice warn">{format!("Capped: the weighted sum alone would be {}. ", grade.uncapped_letter)}{cap}</p>
            })}
            {(!grade.caps_in_force.is_empty()).then(|| view! {
                <div class="caps">"Caps in force: "<ul>{grade.caps_in_force.iter().map(|c| view! { <li>{c.clone()}</li> }).collect_view()}</ul></div>
            })}
            <p class="muted">{format!("Rubric version {}. Totals are compared exactly with the thresholds and shown truncated to two decimals (89.999 shows as 89.99 and is an A).", grade.rubric_version)}</p>
        </section>
        <figure class="chart-figure">
            <div inner_html=chart_svg></div>
            <figcaption>"The total over time, with the letter thresholds. "<a href="/grades/history">"All snapshots"</a></figcaption>
        </figure>
        <figure class="chart-figure">
            <div inner_html=categories_svg></div>
            <figcaption>"Each category's score over time."</figcaption>
        </figure>
        <div class="table-wrap">
            <table>
                <caption>"Where every point comes from"</caption>
                <thead><tr>
                    <th scope="col">"Category"</th><th scope="col" class="num">"Weight"</th><th scope="col" class="num">"Score"</th>
                    <th scope="col" class="num">"Points"</th><th scope="col">"Formula and evidence"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <section aria-labelledby="gaps-h">
            <h2 id="gaps-h">{format!("What moves the grade most (every category to {})", grade.target)}</h2>
            <div class="table-wrap">
                <table>
                    <caption class="visually-hidden">"Gaps"</caption>
                    <thead><tr><th scope="col">"Category"</th><th scope="col" class="num">"Adds"</th><th scope="col">"Arithmetic"</th><th scope="col">"Behind it"</th></tr></thead>
                    <tbody>{gaps}</tbody>
                </table>
            </div>
        </section>
        {can_edit.then(|| view! { <AdminForms categories=categories draft=draft.clone()/> })}
        {can_edit.then(|| view! { <RubricForm weights=grade.weights.clone() thresholds=grade.thresholds.clone() failing=grade.failing.clone() caps=grade.caps.clone() version=grade.rubric_version draft=draft.clone()/> })}
    }
}

#[component]
fn CategoryRow(c: CategoryView, now: OffsetDateTime) -> impl IntoView {
    let source = match c.source {
        ScoreSource::Evidence => "from evidence",
        ScoreSource::Assessment => "assessed",
        ScoreSource::Missing => "no valid evidence",
    };
    let evidence = c
        .evidence
        .iter()
        .map(|e| view! { <li>{e.clone()}</li> })
        .collect_view();
    view! {
        <tr>
            <th scope="row">{c.name.clone()}<br/><small class="muted">{source}</small></th>
            <td class="num">{c.weight.clone()}</td>
            <td class="num">{c.score.clone()}
                {c.override_.as_ref().map(|_| view! { <br/><small class="muted">{format!("computed {}", c.computed)}</small> })}
            </td>
            <td class="num">{c.points.clone()}</td>
            <td>
                <p class="formula">{c.formula.clone()}</p>
                <ul class="evidence">{evidence}</ul>
                {c.evidence_link.clone().map(|href| view! { <a href=href>"see the evidence"</a> })}
                {c.assessment.clone().map(|a| view! {
                    <p class=if a.expired { "error-text" } else { "muted" }>
                        {if a.expired { "Expired: " } else { "Evidence: " }}{a.note.clone()}
                        {a.link.clone().map(|l| view! { " ("<a href=l.clone() rel="noopener noreferrer nofollow">{l.clone()}</a>")" })}
                        {format!(", dated {}, valid until {}, recorded by {} ", a.evidence_date, a.expires_on, a.by)}<TimeAgo at=a.at now=now/>
                    </p>
                })}
                {c.override_.clone().map(|o| view! {
                    <p class="notice warn">{format!("Overridden to {} by {}: {}", o.score, o.by, o.justification)}</p>
                })}
            </td>
        </tr>
    }
}

#[component]
fn AdminForms(categories: Vec<CategoryView>, draft: Option<FormDraft>) -> impl IntoView {
    let sent = |form: &str, name: &str| FormDraft::value(&draft, form, name).unwrap_or_default();
    let option = |form: &str, name: &str| {
        let chosen = FormDraft::value(&draft, form, "category") == Some(name.to_string());
        view! { <option value=name.to_string() selected=chosen>{name.to_string()}</option> }
    };
    let assessed = categories
        .iter()
        .filter(|c| c.assessed)
        .map(|c| option("assess", &c.name))
        .collect_view();
    let all = categories
        .iter()
        .map(|c| option("override", &c.name))
        .collect_view();
    view! {
        <section aria-labelledby="assess-h">
            <h2 id="assess-h">"Record an assessment"</h2>
            <p class="muted">"For categories the portal cannot measure. Evidence expires (Backup/DR after 30 days, others after 90) and then stops counting."</p>
            <form method="post" action="/grades/assess" class="form-grid">
                <CsrfField/>
                <label>"Category"<select name="category" required=true>{assessed}</select></label>
                <label>"Score (0–100)"<input type="text" name="score" inputmode="decimal" required=true value=sent("assess", "score")/></label>
                <label>"Evidence date"<input type="date" name="evidence_date" required=true value=sent("assess", "evidence_date")/></label>
                <label>"Evidence link"<input type="url" name="link" placeholder="https://…" value=sent("assess", "link")/></label>
                <label>"What was checked"<input type="text" name="note" required=true maxlength="1000" value=sent("assess", "note")/></label>
                <button type="submit">"Record assessment"</button>
            </form>
        </section>
        <section aria-labelledby="override-h">
            <h2 id="override-h">"Override a score"</h2>
            <p class="muted">"The computed value stays visible beside the override. Leave the score empty to clear an override."</p>
            <form method="post" action="/grades/override" class="form-grid">
                <CsrfField/>
                <label>"Category"<select name="category" required=true>{all}</select></label>
                <label>"Score (0–100)"<input type="text" name="score" inputmode="decimal" value=sent("override", "score")/></label>
                <label>"Justification"<input type="text" name="justification" required=true maxlength="1000" value=sent("override", "justification")/></label>
                <button type="submit">"Save override"</button>
            </form>
        </section>
    }
}

/// Changing the rubric saves a new version; snapshots keep the version they were scored with.
#[component]
fn RubricForm(
    weights: Vec<(String, String)>,
    thresholds: Vec<(String, String)>,
    failing: String,
    caps: String,
    version: i32,
    draft: Option<FormDraft>,
) -> impl IntoView {
    // After a refusal the form shows what was sent, not what is in force.
    let sent =
        |name: &str, current: String| FormDraft::value(&draft, "rubric", name).unwrap_or(current);
    let fields = weights
        .into_iter()
        .enumerate()
        .map(|(i, (name, weight))| {
            view! {
                <label>{format!("{name} weight (%)")}
                    <input type="hidden" name=format!("name_{i}") value=name.clone()/>
                    <input type="text" name=format!("weight_{i}") value=sent(&format!("weight_{i}"), weight) inputmode="decimal" required=true/>
                </label>
            }
        })
        .collect_view();
    let letters: Vec<String> = thresholds.iter().map(|(l, m)| format!("{l}={m}")).collect();
    view! {
        <section aria-labelledby="rubric-h">
            <h2 id="rubric-h">{format!("Change the rubric (version {version} in force)")}</h2>
            <p class="muted">"Weights must sum to 100; thresholds run from the highest letter down, without overlap; caps name letters of this rubric. Saving creates a new version."</p>
            <form method="post" action="/grades/rubric" class="form-grid">
                <CsrfField/>
                {fields}
                <label>"Letters (letter=minimum, highest first)"
                    <textarea name="thresholds" rows="4" required=true>{sent("thresholds", letters.join(", "))}</textarea>
                </label>
                <label>"Below every letter"<input type="text" name="failing" value=sent("failing", failing) required=true/></label>
                <label>"Caps, one per line: rule = highest letter (backup_unverified, finding <kind>, or <Category> < <score>)"
                    <textarea name="caps" rows="4">{sent("caps", caps)}</textarea>
                </label>
                <button type="submit">"Save as a new version"</button>
            </form>
        </section>
    }
}

#[component]
pub fn GradeHistoryPage(snapshots: Vec<GradeSnapshot>, now: OffsetDateTime) -> impl IntoView {
    let empty = snapshots.is_empty();
    let rows = snapshots
        .into_iter()
        .rev()
        .map(|s| {
            let cats = s
                .categories
                .iter()
                .map(|(n, v)| format!("{n} {}.{:02}", v / 100, v % 100))
                .collect::<Vec<_>>()
                .join(", ");
            view! {
                <tr>
                    <td><TimeAgo at=s.at now=now/></td>
                    <td class="num">{format!("{}.{:02}", s.total / 100, s.total % 100)}</td>
                    <td>{s.letter.clone()}</td>
                    <td>{s.capped_by.clone().unwrap_or_default()}</td>
                    <td class="num">{s.rubric_version}</td>
                    <td><small>{cats}</small></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h1>"Grade history"</h1>
        <p><a class="button secondary" href="/grades/history.csv">"Download CSV"</a>" "<a href="/grades">"Back to the grade"</a></p>
        <div class="table-wrap">
            <table>
                <caption class="visually-hidden">"Grade snapshots"</caption>
                <thead><tr><th scope="col">"When"</th><th scope="col" class="num">"Total"</th><th scope="col">"Letter"</th><th scope="col">"Cap"</th><th scope="col" class="num">"Rubric"</th><th scope="col">"Categories"</th></tr></thead>
                <tbody>
                    {rows}
                    {empty.then(|| view! { <tr><td colspan="6" class="empty">"No snapshot yet: the worker takes one after its first refresh."</td></tr> })}
                </tbody>
            </table>
        </div>
    }
}
