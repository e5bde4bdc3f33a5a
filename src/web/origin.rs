//! Where a request came from: the scheme and the client's address, taken
//! from `Forwarded` / `X-Forwarded-*` only when the TCP peer is a trusted
//! proxy; and the public URL every link starts with. Nothing here reads the
//! `Host` header: links never come from the request.

use std::net::IpAddr;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest};

use super::state::AppState;
use crate::config::{PublicUrl, TrustedProxies};

/// The addresses of the site, from the configuration.
#[derive(Debug, Clone)]
pub struct Site {
    pub public_url: PublicUrl,
    pub proxies: TrustedProxies,
}

fn site(req: &HttpRequest) -> Option<&Site> {
    req.app_data::<web::Data<AppState>>().map(|s| &s.site)
}

/// Whether the request reached buurtpeil over HTTPS: buurtpeil itself serves
/// plain HTTP, so only a trusted proxy can say so.
pub fn is_https(req: &HttpRequest) -> bool {
    let Some(site) = site(req) else { return false };
    match trusted_headers(req, site) {
        Some(headers) => forwarded_proto(headers).is_some_and(|p| p.eq_ignore_ascii_case("https")),
        None => false,
    }
}

/// Middleware: `Strict-Transport-Security` on every answer to a request that
/// came over HTTPS (`is_https`); never over plain HTTP, where it means
/// nothing and a spoofed header must not switch it on.
pub async fn strict_transport_security(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let https = is_https(req.request());
    let mut res = next.call(req).await?;
    if https {
        res.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    Ok(res)
}

/// The client's address: the TCP peer, or, when that is a trusted proxy,
/// the nearest address in the forwarded chain that is not one.
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip().to_canonical())?;
    let Some(site) = site(req) else { return Some(peer) };
    let Some(headers) = trusted_headers(req, site) else { return Some(peer) };
    Some(forwarded_client(headers, &site.proxies).unwrap_or(peer))
}

/// The request's headers, if its TCP peer is a trusted proxy.
fn trusted_headers<'a>(req: &'a HttpRequest, site: &Site) -> Option<&'a HeaderMap> {
    let peer = req.peer_addr()?.ip();
    site.proxies.contains(peer).then(|| req.headers())
}

/// Every value of a header, comma-separated lists split, in order.
fn list<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(name)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The `key=value` pairs of each element of `Forwarded` (RFC 7239).
fn forwarded_elements(headers: &HeaderMap) -> Vec<Vec<(String, String)>> {
    list(headers, "forwarded")
        .into_iter()
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_owned()))
                .collect()
        })
        .collect()
}

/// The scheme the nearest proxy saw: `Forwarded: proto=`, else
/// `X-Forwarded-Proto`.
fn forwarded_proto(headers: &HeaderMap) -> Option<String> {
    let from_forwarded = forwarded_elements(headers)
        .into_iter()
        .rev()
        .find_map(|e| e.into_iter().find(|(k, _)| k == "proto").map(|(_, v)| v));
    from_forwarded.or_else(|| list(headers, "x-forwarded-proto").last().map(|s| (*s).to_owned()))
}

/// The client in the forwarded chain (`Forwarded: for=`, else
/// `X-Forwarded-For`): from the nearest hop outwards, the first address
/// that is not a trusted proxy. `None` when the chain holds no address.
fn forwarded_client(headers: &HeaderMap, proxies: &TrustedProxies) -> Option<IpAddr> {
    let forwarded: Vec<String> = forwarded_elements(headers)
        .into_iter()
        .filter_map(|e| e.into_iter().find(|(k, _)| k == "for").map(|(_, v)| v))
        .collect();
    let chain: Vec<String> = if forwarded.is_empty() {
        list(headers, "x-forwarded-for").into_iter().map(str::to_owned).collect()
    } else {
        forwarded
    };
    let mut nearest = None;
    for hop in chain.iter().rev() {
        let ip = parse_hop(hop)?;
        nearest = Some(ip);
        if !proxies.contains(ip) {
            return Some(ip);
        }
    }
    nearest
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711` or `2001:db8::1`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(inner) = hop.strip_prefix('[') {
        return inner.split(']').next()?.parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
    }
    hop.rsplit_once(':')?.0.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_proxy_outwards() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let client = |pairs: &[(&str, &str)]| forwarded_client(&headers(pairs), &proxies);
        assert_eq!(client(&[("x-forwarded-for", "203.0.113.7")]), Some(ip("203.0.113.7")));
        // A client that sends its own X-Forwarded-For cannot hide behind it.
        assert_eq!(client(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7, 10.0.0.2")]), Some(ip("203.0.113.7")));
        assert_eq!(
            client(&[("x-forwarded-for", "1.2.3.4"), ("x-forwarded-for", "203.0.113.7")]),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(client(&[("x-forwarded-for", "10.0.0.3, 10.0.0.2")]), Some(ip("10.0.0.3")));
        assert_eq!(client(&[("forwarded", "for=\"[2001:db8::17]:4711\";proto=https")]), Some(ip("2001:db8::17")));
        assert_eq!(client(&[("forwarded", "for=198.51.100.1:80, for=10.0.0.9")]), Some(ip("198.51.100.1")));
        assert_eq!(client(&[("forwarded", "for=unknown")]), None);
        assert_eq!(client(&[("x-forwarded-for", "nonsense")]), None);
        assert_eq!(client(&[]), None);
    }

    #[test]
    fn the_scheme_is_the_nearest_proxy_s() {
        let proto = |pairs: &[(&str, &str)]| forwarded_proto(&headers(pairs));
        assert_eq!(proto(&[("x-forwarded-proto", "https")]).as_deref(), Some("https"));
        assert_eq!(proto(&[("x-forwarded-proto", "https, http")]).as_deref(), Some("http"));
        assert_eq!(
            proto(&[("forwarded", "for=1.2.3.4;proto=https"), ("x-forwarded-proto", "http")]).as_deref(),
            Some("https")
        );
        assert_eq!(proto(&[]), None);
    }
}
