//! The read model: what the busiest pages show (the inventory rows with their docs, the
//! dashboard's figures, the grade with its evidence and charts), computed once per change of
//! the data and shared by every view until the data changes again.
//!
//! Whether the data changed is counted, not asked (`version`): every table announces its commits
//! on a channel each serving process follows, so a view costs no query while nothing was written,
//! and no write path has to remember to invalidate anything. Each part is built lazily, once per
//! generation (the async `OnceCell` is the single flight: concurrent views wait for one build),
//! and a generation older than [`MAX_AGE`] is replaced anyway, for figures that move with the
//! clock alone ("stale", "over 24 h", "overdue").

pub mod figures;
pub mod pages;
pub mod version;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::OnceCell;

use pages::{KeptPage, KeptSlot};
use version::{ChangeCount, Version};

use app::model::grade::GradeView;
use app::model::{InventoryCounts, ServiceSummary};
use app::pages::dashboard::DashboardView;

/// The longest a generation is served without a write, for the clock-driven figures.
pub const MAX_AGE: Duration = Duration::from_secs(30);

/// The services table: every current and removed service with its doc, unfiltered.
#[derive(Debug)]
pub struct ServicesData {
    pub rows: Vec<ServiceSummary>,
    pub counts: InventoryCounts,
    pub engines: Vec<String>,
}

impl ServicesData {
    /// The rows `query` selects, in its order: what the services page and the API list show.
    pub fn matching(&self, query: &app::model::service_query::ServiceQuery) -> Vec<ServiceSummary> {
        let mut rows: Vec<ServiceSummary> = self
            .rows
            .iter()
            .filter(|s| query.matches(s))
            .cloned()
            .collect();
        query.apply(&mut rows);
        rows
    }
}

/// The grades page's figures and its two charts, as finished SVG.
#[derive(Debug)]
pub struct GradesData {
    pub grade: GradeView,
    pub chart_svg: String,
    pub categories_svg: String,
}

/// The documentation page's report and its trend chart.
#[derive(Debug)]
pub struct DocsData {
    pub report: app::model::docs::CoverageReport,
    pub chart_svg: String,
}

/// The parts built from one state of the data.
#[derive(Debug)]
pub struct Generation {
    version: Version,
    built: Instant,
    pub services: OnceCell<Arc<ServicesData>>,
    pub dashboard: OnceCell<Arc<DashboardView>>,
    pub grades: OnceCell<Arc<GradesData>>,
    pub docs: OnceCell<Arc<DocsData>>,
    pub actions: OnceCell<Arc<crate::actions::plan::Plan>>,
    /// `/capacity` compared with the latest baseline, before the viewer's own parts.
    pub capacity: OnceCell<Arc<app::model::capacity::CapacityPage>>,
    /// `/dependencies`: each engine's map.
    pub dependencies: OnceCell<Arc<Vec<app::model::capacity::EngineDependencies>>>,
    /// `/versions`' rows, in image order.
    pub versions: OnceCell<Arc<Vec<app::model::capacity::VersionRow>>>,
    /// What `/metrics` and `/api/v1/summary` report.
    pub figures: OnceCell<Arc<figures::Figures>>,
    /// The services table's rendered rows per query (its `Debug` text), with their count.
    services_rows: Mutex<HashMap<String, (Arc<String>, usize)>>,
    /// The action plan's rendered tables per filter and form set.
    action_rows: Mutex<HashMap<String, Arc<[String; 3]>>>,
    /// Whole pages per address and viewer (see `pages`), and the bytes they hold.
    kept_pages: Mutex<(HashMap<String, KeptSlot>, usize)>,
    /// Pages of the generations this one replaced for their age alone (the same data, the
    /// clock's figures a little older): each stands in for its key while this generation's
    /// copy renders in the background, so the clock's replacement makes no view wait. A flat
    /// map, not a chain of generations; emptied by a change of the data.
    stand_ins: Mutex<HashMap<String, Arc<KeptPage>>>,
}

/// A page older than this never stands in: a view that finds nothing newer waits for its render.
const STAND_IN_MAX_AGE: Duration = Duration::from_secs(300);

/// The most bytes of whole pages one generation keeps; past it, the kept pages are dropped all
/// at once (views holding one finish with it) and kept again as they are viewed (`/services` at 1,000 services is 444 KB).
const MAX_KEPT_PAGE_BYTES: usize = 48 << 20;

/// Queries whose rows are kept per generation; beyond this the oldest are dropped all at once
/// (a team uses a handful of filters; a crawler must not grow the cache).
const MAX_KEPT_QUERIES: usize = 64;

impl Generation {
    fn new(version: Version) -> Self {
        Generation {
            version,
            built: Instant::now(),
            services: OnceCell::new(),
            dashboard: OnceCell::new(),
            grades: OnceCell::new(),
            docs: OnceCell::new(),
            actions: OnceCell::new(),
            capacity: OnceCell::new(),
            versions: OnceCell::new(),
            figures: OnceCell::new(),
            dependencies: OnceCell::new(),
            services_rows: Mutex::default(),
            action_rows: Mutex::default(),
            kept_pages: Mutex::default(),
            stand_ins: Mutex::default(),
        }
    }

    /// The page that stands in for `key` while this generation's own copy renders, if any.
    pub fn stand_in(&self, key: &str) -> Option<Arc<KeptPage>> {
        self.stand_ins.lock().ok()?.get(key).cloned()
    }

    /// Takes over what `older` (replaced for its age alone) could lend: its own stand-ins and,
    /// over them, the pages it kept; none rendered more than `max_age` ago.
    fn inherit_stand_ins(&self, older: &Generation, max_age: Duration) {
        let mut lent: HashMap<String, Arc<KeptPage>> = older
            .stand_ins
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        if let Ok(kept) = older.kept_pages.lock() {
            for (key, slot) in &kept.0 {
                if let Some(page) = slot.page.get() {
                    lent.insert(key.clone(), page.clone());
                }
            }
        }
        lent.retain(|_, page| page.age() < max_age);
        if let Ok(mut stand_ins) = self.stand_ins.lock() {
            *stand_ins = lent;
        }
    }

    /// The slot of the page kept for `key` in this generation: filled by the first view, which
    /// the views that arrive meanwhile wait for (one render per page, not one per connection).
    pub fn page_slot(&self, key: &str) -> KeptSlot {
        let Ok(mut kept) = self.kept_pages.lock() else {
            return KeptSlot::default();
        };
        let (pages, bytes) = &mut *kept;
        if let Some(slot) = pages.get(key) {
            return slot.clone();
        }
        if *bytes > MAX_KEPT_PAGE_BYTES || pages.len() >= MAX_KEPT_QUERIES * 4 {
            pages.clear();
            *bytes = 0;
        }
        let slot = KeptSlot::default();
        pages.insert(key.to_string(), slot.clone());
        slot
    }

    /// Counts a page just kept against [`MAX_KEPT_PAGE_BYTES`].
    pub fn count_kept_bytes(&self, size: usize) {
        if let Ok(mut kept) = self.kept_pages.lock() {
            kept.1 += size;
        }
    }

    /// The rendered rows for `query`, rendered by `render` the first time in this generation.
    pub fn services_rows(
        &self,
        query: String,
        render: impl FnOnce() -> (String, usize),
    ) -> (Arc<String>, usize) {
        kept_or_rendered(&self.services_rows, query, || {
            let (html, shown) = render();
            (Arc::new(html), shown)
        })
    }

    /// The action plan's rendered tables for `key`, rendered by `render` the first time in
    /// this generation.
    pub fn action_rows(
        &self,
        key: String,
        render: impl FnOnce() -> [String; 3],
    ) -> Arc<[String; 3]> {
        kept_or_rendered(&self.action_rows, key, || Arc::new(render()))
    }

    fn holds(&self, version: &Version, max_age: Duration) -> bool {
        self.version == *version && self.built.elapsed() < max_age
    }
}

/// What `kept` holds for `key`, else what `render` makes, then kept. Rendered outside the lock:
/// two first views of one key may both render; both are right.
fn kept_or_rendered<T: Clone>(
    kept: &Mutex<HashMap<String, T>>,
    key: String,
    render: impl FnOnce() -> T,
) -> T {
    if let Some(found) = kept.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return found;
    }
    let rendered = render();
    if let Ok(mut kept) = kept.lock() {
        if kept.len() >= MAX_KEPT_QUERIES {
            kept.clear();
        }
        kept.insert(key, rendered.clone());
    }
    rendered
}

/// The current generation, shared by the handlers of one process, and the count of changes
/// that dates it.
#[derive(Debug)]
pub struct ReadModel {
    current: RwLock<Arc<Generation>>,
    pub changes: Arc<ChangeCount>,
    /// [`MAX_AGE`], shorter in tests.
    max_age: Duration,
    /// [`STAND_IN_MAX_AGE`], shorter in tests.
    stand_in_max_age: Duration,
}

impl Default for ReadModel {
    fn default() -> Self {
        ReadModel {
            current: RwLock::new(Arc::new(Generation::new(Version::Counted(u64::MAX)))),
            changes: Arc::default(),
            max_age: MAX_AGE,
            stand_in_max_age: STAND_IN_MAX_AGE,
        }
    }
}

impl ReadModel {
    /// The generation for the data as it is now: the current one while nothing has been
    /// written, else a new, empty one whose parts are built on first use.
    pub async fn current(&self, db: &PgPool) -> sqlx::Result<Arc<Generation>> {
        let version = self.changes.now(db).await?;
        if let Ok(g) = self.current.read()
            && g.holds(&version, self.max_age)
        {
            return Ok(g.clone());
        }
        let Ok(mut g) = self.current.write() else {
            // A poisoned lock cannot hold a half-built generation: build one for this view.
            return Ok(Arc::new(Generation::new(version)));
        };
        if !g.holds(&version, self.max_age) {
            let changed = g.version != version;
            crate::metrics::count_generation(changed);
            let next = Generation::new(version);
            if !changed {
                // Only the clock moved: the old pages stand in while the new ones render.
                next.inherit_stand_ins(&g, self.stand_in_max_age);
            }
            *g = Arc::new(next);
        }
        Ok(g.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pages_kept_before_a_replacement_for_age_stand_in_until_too_old_or_the_data_changes() {
        let model = ReadModel {
            max_age: Duration::from_millis(20),
            stand_in_max_age: Duration::from_millis(150),
            ..ReadModel::default()
        };
        // Following the channel, a view asks Postgres nothing: this pool is never used.
        model.changes.follow_from_now();
        let db = PgPool::connect_lazy("postgres://nobody@127.0.0.1:9/nothing").unwrap();
        let keep = |generation: &Generation, key: &str, html: &'static [u8]| {
            let page = KeptPage::new(axum::body::Bytes::from_static(html), Default::default());
            generation
                .page_slot(key)
                .page
                .set(Arc::new(page.unwrap()))
                .unwrap();
        };
        let first = model.current(&db).await.unwrap();
        keep(&first, "/\nviewer", b"<p>3 services</p>");

        tokio::time::sleep(Duration::from_millis(30)).await;
        let aged = model.current(&db).await.unwrap();
        assert!(!Arc::ptr_eq(&first, &aged), "replaced for its age");
        assert!(
            aged.stand_in("/\nviewer").is_some(),
            "the same data: its pages stand in"
        );
        assert!(aged.stand_in("/other\nviewer").is_none());
        keep(&aged, "/grades\nviewer", b"<p>A</p>");

        // A page not viewed in the generation between still stands in: the map is carried, and
        // the page this generation kept joins it.
        tokio::time::sleep(Duration::from_millis(30)).await;
        let aged_again = model.current(&db).await.unwrap();
        assert!(aged_again.stand_in("/\nviewer").is_some());
        assert!(aged_again.stand_in("/grades\nviewer").is_some());

        // Past the stand-ins' age limit a view waits for a fresh render rather than see it.
        tokio::time::sleep(Duration::from_millis(160)).await;
        let much_later = model.current(&db).await.unwrap();
        assert!(
            much_later.stand_in("/\nviewer").is_none(),
            "too old to stand in"
        );

        let fresh = model.current(&db).await.unwrap();
        keep(&fresh, "/\nviewer", b"<p>3 services</p>");
        model.changes.changed();
        let changed = model.current(&db).await.unwrap();
        assert!(
            changed.stand_in("/\nviewer").is_none(),
            "after a change nothing older stands in"
        );
    }
}
