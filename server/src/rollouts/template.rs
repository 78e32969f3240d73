//! The accounting rollout as the portal seeds it: the plan's goal, the candidates, the weighted
//! criteria and the checklist (with the live check that proves an item, where there is one).

/// The seeded accounting rollout: the plan's goal, two candidates, seven criteria, and one
/// checklist item per requirement (with the check that proves it, when the portal can).
pub(super) const ACCOUNTING_GOAL: &str = "Deploy an accounting system (Odoo or ERPNext): evaluate the options against business needs, choose and deploy, integrate with Traefik and Authelia, configure the accounting and inventory modules, back it up, document access and operations, and train the users. Finish line: ready for business use.";
pub(super) const CANDIDATES: [(&str, &str); 2] = [("Odoo", "odoo"), ("ERPNext", "erpnext")];
pub(super) const CRITERIA: [(&str, i32); 7] = [
    ("Accounting and inventory fit", 25),
    ("Resource footprint", 10),
    ("Self-hosting effort", 15),
    ("OIDC/SSO support", 15),
    ("Backup and restore", 15),
    ("Licence and cost", 10),
    ("Community and updates", 10),
];
pub(super) const ITEMS: [(&str, Option<&str>); 12] = [
    (
        "Evaluate the options and record the decision",
        Some("decision"),
    ),
    (
        "Container of the chosen system runs and is healthy",
        Some("container"),
    ),
    ("Behind Traefik at the accounting host", Some("router")),
    ("Authelia SSO on its router", Some("authelia")),
    ("TLS properly configured on its router", Some("tls")),
    ("VPN allow-list on its router", Some("allowlist")),
    ("Restart policy and health check", Some("restart_health")),
    (
        "Monitoring integration (uptime, health checks)",
        Some("monitoring"),
    ),
    (
        "Basic modules configured (accounting, inventory minimum)",
        None,
    ),
    (
        "Backups to the existing backup infrastructure, restore tested",
        Some("backup"),
    ),
    (
        "Access and operations documented (service doc passes the checklist)",
        Some("doc"),
    ),
    ("End users trained or end-user documentation written", None),
];
