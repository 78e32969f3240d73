//! What a certificate says of itself: expiry, issuer, the names it is valid for.

use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::probe::CertFacts;

/// Describes a DER certificate; an unparsable one is described as such, never a panic.
pub fn describe(der: &[u8]) -> CertFacts {
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        return CertFacts {
            issuer: "(certificate not readable)".into(),
            ..Default::default()
        };
    };
    let mut names: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(d) => Some(d.to_string()),
                    GeneralName::IPAddress(ip) if ip.len() == 4 => {
                        Some(std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string())
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        names.extend(
            cert.subject()
                .iter_common_name()
                .filter_map(|cn| cn.as_str().ok().map(String::from)),
        );
    }
    CertFacts {
        chain_error: None,
        not_after: Some(cert.validity().not_after.to_datetime()),
        issuer: cert.issuer().to_string(),
        names,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_described_not_fatal() {
        let facts = describe(b"not a certificate");
        assert_eq!(facts.issuer, "(certificate not readable)");
        assert!(facts.not_after.is_none());
    }
}
