//! The reverse proxies whose forwarded headers buurtpeil believes.

use std::net::IpAddr;

/// Addresses and networks (`BUURTPEIL_TRUSTED_PROXIES`: comma-separated IPs
/// or CIDRs). Empty: no forwarded header counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    base: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "BUURTPEIL_TRUSTED_PROXIES: {0:?} is not an IP address or network; write them comma-separated, like 10.0.0.5, 192.168.10.0/24, fd00::/8"
)]
pub struct TrustedProxiesError(String);

impl TrustedProxies {
    pub fn parse(raw: &str) -> Result<TrustedProxies, TrustedProxiesError> {
        let mut networks = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let fail = || TrustedProxiesError(item.chars().take(60).collect());
            let (addr, prefix) = match item.split_once('/') {
                Some((addr, prefix)) => (addr, Some(prefix)),
                None => (item, None),
            };
            let base: IpAddr = addr.parse().map_err(|_| fail())?;
            let max = if base.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => max,
                Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(fail)?,
            };
            networks.push(Network { base, prefix });
        }
        Ok(TrustedProxies(networks))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a TCP peer is one of the proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|n| n.contains(ip))
    }
}

impl Network {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, ip) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => {
                same_prefix(u32::from(base).into(), u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(base), IpAddr::V6(ip)) => same_prefix(u128::from(base), u128::from(ip), 128, self.prefix),
            _ => false,
        }
    }
}

/// Whether the first `prefix` of `bits` bits of `a` and `b` agree.
fn same_prefix(a: u128, b: u128, bits: u32, prefix: u8) -> bool {
    let shift = bits - u32::from(prefix);
    if shift >= 128 {
        return true;
    }
    (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn addresses_and_networks() {
        let p = TrustedProxies::parse(" 10.0.0.5, 192.168.10.0/24 ,fd00::/8,, 0.0.0.0/0 ").unwrap();
        assert!(p.contains(ip("10.0.0.5")) && p.contains(ip("192.168.10.77")) && p.contains(ip("fd12::1")));
        let p = TrustedProxies::parse("10.0.0.5, 192.168.10.0/24, fd00::/8").unwrap();
        assert!(!p.contains(ip("10.0.0.6")) && !p.contains(ip("192.168.11.1")) && !p.contains(ip("fe80::1")));
        assert!(p.contains(ip("::ffff:10.0.0.5")), "an IPv4 peer on an IPv6 socket");
        assert!(TrustedProxies::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(TrustedProxies::parse("::/0").unwrap().contains(ip("2001:db8::1")));
        assert!(!TrustedProxies::parse("::/0").unwrap().contains(ip("8.8.8.8")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(!TrustedProxies::default().contains(ip("127.0.0.1")));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in ["proxy.local", "10.0.0.0/33", "fd00::/129", "10.0.0.1/x", "10.0.0/8", "*"] {
            let e = TrustedProxies::parse(&format!("127.0.0.1, {bad}")).unwrap_err().to_string();
            assert!(e.contains(bad), "{bad}: {e}");
        }
    }
}
