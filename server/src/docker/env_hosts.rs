//! Which host names a container's environment points at, decided where the values are read and
//! then dropped: only the host part of a value (`db` in `postgres://u:p@db:5432/app`) or a
//! variable's name (`REDIS_HOST` → `redis`) goes further, for the dependency map.

/// Variable name endings that say "the value (or the name's stem) is another service".
const HOST_SUFFIXES: [&str; 10] = [
    "_HOST",
    "_HOSTNAME",
    "_ADDR",
    "_ADDRESS",
    "_SERVER",
    "_SERVICE",
    "_URL",
    "_URI",
    "_DSN",
    "_ENDPOINT",
];

/// Host names named by one `NAME=value` entry, lower-cased, without duplicates.
pub fn hosts_in(entry: &str) -> Vec<String> {
    let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
    let upper = name.to_ascii_uppercase();
    let suffix = HOST_SUFFIXES.iter().find(|s| upper.ends_with(*s));
    let mut out = vec![];
    // `REDIS_HOST`, `POSTGRES_URL`: the stem names a service even when the value is an address.
    if let Some(suffix) = suffix {
        let stem = &name[..name.len() - suffix.len()];
        push_host(&mut out, stem);
    }
    for part in value.split([',', ' ', ';']).filter(|p| !p.is_empty()) {
        if let Some((_, rest)) = part.split_once("://") {
            // The authority ends at the first '/', '?' or '#'; credentials end at its last '@'.
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host_port = authority.rsplit('@').next().unwrap_or("");
            for hp in host_port.split(',') {
                push_host(&mut out, strip_port(hp));
            }
        } else if let Some((host, port)) = part.rsplit_once(':') {
            if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) && !host.contains('@') {
                push_host(&mut out, host);
            }
        } else if suffix.is_some() {
            // A bare value only counts when the variable says it is a host (`DB_HOST=postgres`),
            // so `LOG_LEVEL=info` never becomes an edge to a service called "info".
            push_host(&mut out, part);
        }
    }
    out
}

fn strip_port(host_port: &str) -> &str {
    match host_port.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => host_port,
    }
}

/// Keeps `candidate` when it looks like a host name: letters, digits, '-', '_' and '.', with a
/// letter in it (so addresses and numbers are skipped).
fn push_host(out: &mut Vec<String>, candidate: &str) {
    let host = candidate
        .trim()
        .trim_matches(['[', ']'])
        .to_ascii_lowercase();
    let valid = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && host.chars().any(|c| c.is_ascii_alphabetic())
        && host.parse::<std::net::IpAddr>().is_err();
    if valid && !out.contains(&host) {
        out.push(host);
    }
}

#[cfg(test)]
mod tests {
    use super::hosts_in;

    #[test]
    fn host_parts_of_urls_and_addresses_without_credentials() {
        assert_eq!(
            hosts_in("DATABASE_URL=postgres://app:s3cr@t@db:5432/app?sslmode=disable"),
            ["database", "db"]
        );
        assert_eq!(hosts_in("CACHE=redis:6379"), ["redis"]);
        assert_eq!(hosts_in("REDIS_HOST=cache"), ["redis", "cache"]);
        assert_eq!(hosts_in("DB_HOST=10.0.0.5"), ["db"]);
        assert_eq!(
            hosts_in("BROKERS=kafka1:9092,kafka2:9092"),
            ["kafka1", "kafka2"]
        );
        assert_eq!(
            hosts_in("UPSTREAM=http://[::1]:8080/x"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn values_that_are_not_addresses_name_nothing() {
        for entry in [
            "LOG_LEVEL=info",
            "POSTGRES_PASSWORD=hunter2",
            "TZ=Europe/Berlin",
            "GREETING=hello world",
            "RATIO=3:2x",
            "EMPTY",
            "PATH=/usr/bin:/bin",
        ] {
            assert!(hosts_in(entry).is_empty(), "{entry}: {:?}", hosts_in(entry));
        }
        // A secret with a colon is not taken for host:port unless the part after it is a port.
        assert!(hosts_in("API_TOKEN=user:pa55word").is_empty());
    }
}
