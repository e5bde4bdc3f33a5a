//! The path as the access log shows it: the secret of every route that
//! carries one replaced by `…`.
//!
//! The router matches the percent-decoded path, so the log must redact on
//! what the router sees, not on the raw bytes: `/%6Dijn-talent/TOKEN` and
//! `/%69/TOKEN` reach the private-link and invitation pages. The path is
//! decoded, empty, `.` and `..` segments are resolved, and the segment after
//! a secret-carrying segment (in any case) is hidden, wherever it stands;
//! hiding too much in a log line costs nothing.

/// Segments followed by a secret: `/i/{invitation token}`,
/// `/mijn-talent/{private link token}/…`, `/voorstel/{proposal token}`.
const BEFORE_SECRET: [&str; 3] = ["i", "mijn-talent", "voorstel"];
/// What may follow `/i/` without being a token.
const NOT_SECRET_AFTER_I: [&str; 1] = ["start"];

pub fn loggable_path(raw: &str) -> String {
    let decoded = percent_decode(raw);
    let trailing_slash = decoded.ends_with('/') && decoded.len() > 1;
    let mut segments: Vec<String> = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s.to_owned()),
        }
    }
    for i in 1..segments.len() {
        let before = segments[i - 1].to_lowercase();
        if BEFORE_SECRET.contains(&before.as_str())
            && !(before == "i" && NOT_SECRET_AFTER_I.contains(&segments[i].to_lowercase().as_str()))
        {
            segments[i] = "…".into();
        }
    }
    let mut out = format!("/{}", segments.join("/"));
    if trailing_slash && out.len() > 1 {
        out.push('/');
    }
    // A log line is one line.
    out.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// `%XX` decoded to bytes (every one, `%2F` included), read as UTF-8 with
/// replacement characters; a `%` without two hex digits stays as it is.
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hidden_however_the_path_is_spelled() {
        let t = "ABCDEFGHJKMNPQRSTVWXYZ012345";
        for (path, logged) in [
            (format!("/i/{t}"), "/i/…"),
            (format!("/%69/{t}"), "/i/…"),
            (format!("/%49/{t}"), "/I/…"),
            (format!("//i//{t}"), "/i/…"),
            (format!("/i/{t}/"), "/i/…/"),
            (format!("/i/%{:02X}{}", t.as_bytes()[0], &t[1..]), "/i/…"),
            (format!("/x/../i/./{t}"), "/i/…"),
            (format!("/mijn-talent/{t}"), "/mijn-talent/…"),
            (format!("/%6Dijn-talent/{t}/wissen"), "/mijn-talent/…/wissen"),
            (format!("/mijn%2Dtalent/{t}/gegevens.json"), "/mijn-talent/…/gegevens.json"),
            (format!("/MIJN-TALENT/{t}"), "/MIJN-TALENT/…"),
            (format!("/mijn-talent%2F{t}"), "/mijn-talent/…"),
            (format!("/voorstel/{t}"), "/voorstel/…"),
            (format!("/%76oorstel//{t}/"), "/voorstel/…/"),
        ] {
            assert_eq!(loggable_path(&path), logged, "{path}");
        }
    }

    #[test]
    fn other_paths_stay_readable() {
        for path in ["/", "/i", "/i/", "/i/start", "/mijn-talent", "/s/geluk/p/2", "/beheer/loting/x/brieven"] {
            assert_eq!(loggable_path(path), path);
        }
        assert_eq!(loggable_path("/s/geluk%0Aevil"), "/s/geluk?evil");
        assert_eq!(loggable_path("/100%"), "/100%");
    }
}
