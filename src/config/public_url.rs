//! The one address every link buurtpeil shows or sends starts with.

use std::fmt;

/// `http(s)://host[:port]`: a scheme, a host and maybe a port; no user, path,
/// query or fragment. Parsed once at start, so it cannot hold anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// `https://host[:port]`, never with a trailing slash.
    text: String,
    https: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("BUURTPEIL_PUBLIC_URL {shown:?} {reason}; write it like https://buurtpeil.gemeente.nl")]
pub struct PublicUrlError {
    shown: String,
    reason: &'static str,
}

impl PublicUrl {
    pub fn parse(raw: &str) -> Result<PublicUrl, PublicUrlError> {
        let fail = |reason| PublicUrlError { shown: raw.chars().take(80).collect(), reason };
        let s = raw.trim();
        let (https, rest) = if let Some(rest) = strip_prefix_ignore_case(s, "https://") {
            (true, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(s, "http://") {
            (false, rest)
        } else {
            return Err(fail("does not start with http:// or https://"));
        };
        // One trailing slash is the root itself; anything after it is a path.
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['?', '#']) {
            return Err(fail("has a query or fragment (? or #)"));
        }
        if authority.contains('/') {
            return Err(fail("has a path: buurtpeil serves its pages from the root of its address"));
        }
        if authority.contains('@') {
            return Err(fail("holds a user name or password"));
        }
        let (host, port) =
            split_port(authority).ok_or_else(|| fail("has a port that is not a number from 1 to 65535"))?;
        if !valid_host(host) {
            return Err(fail("has no valid host name"));
        }
        let host = host.to_ascii_lowercase();
        let scheme = if https { "https" } else { "http" };
        let text = match port {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        };
        Ok(PublicUrl { text, https })
    }

    /// `https://host[:port]`, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The absolute link of a path that starts with `/`.
    pub fn join(&self, path: &str) -> String {
        debug_assert!(path.starts_with('/'), "{path}");
        format!("{}{path}", self.text)
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// `host` and the port, if any; `None` for a port that is not one.
fn split_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(v6_end) = authority.strip_prefix('[').and_then(|r| r.find(']')) {
        let end = v6_end + 2;
        (&authority[..end], authority[end..].strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    match port {
        None => Some((host, None)),
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            p.parse::<u16>().ok().filter(|p| *p > 0).map(|p| (host, Some(p)))
        }
        Some(_) => None,
    }
}

/// A DNS name (letters, digits, `-`, dots between labels), an IPv4 address
/// or a bracketed IPv6 address.
fn valid_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_scheme_a_host_and_a_port_only() {
        for (raw, want, https) in [
            ("https://buurtpeil.eindhoven.nl", "https://buurtpeil.eindhoven.nl", true),
            ("https://Buurtpeil.Eindhoven.NL/", "https://buurtpeil.eindhoven.nl", true),
            ("  HTTP://127.0.0.1:8080 ", "http://127.0.0.1:8080", false),
            ("http://[::1]:8443", "http://[::1]:8443", false),
            ("https://intranet", "https://intranet", true),
        ] {
            let url = PublicUrl::parse(raw).unwrap();
            assert_eq!((url.as_str(), url.is_https()), (want, https), "{raw}");
        }
        assert_eq!(PublicUrl::parse("https://a.nl").unwrap().join("/i/x"), "https://a.nl/i/x");
    }

    #[test]
    fn refuses_everything_else_with_the_reason() {
        for (raw, reason) in [
            ("buurtpeil.nl", "does not start with http"),
            ("ftp://buurtpeil.nl", "does not start with http"),
            ("https://", "no valid host"),
            ("https://a.nl?x=1", "query or fragment"),
            ("https://a.nl/#top", "query or fragment"),
            ("https://a.nl/buurtpeil", "has a path"),
            ("https://a.nl//", "has a path"),
            ("https://user:pw@a.nl", "user name or password"),
            ("https://a.nl:0", "port"),
            ("https://a.nl:99999", "port"),
            ("https://a.nl:http", "port"),
            ("https://a.nl:", "port"),
            ("https://a b.nl", "no valid host"),
            ("https://-a.nl", "no valid host"),
            ("https://a..nl", "no valid host"),
            ("https://[nope]:80", "no valid host"),
            ("https://a.nl\\@b.nl", "user name or password"),
        ] {
            let e = PublicUrl::parse(raw).unwrap_err().to_string();
            assert!(e.contains(reason) && e.starts_with("BUURTPEIL_PUBLIC_URL"), "{raw}: {e}");
        }
    }
}
