//! Kubernetes' IP and CIDR libraries (k8s.io/apiserver/pkg/cel/library/ip.go, cidr.go):
//! `ip()`, `isIP()`, `ip.isCanonical()`, an IP's `family`, `isUnspecified`, `isLoopback`,
//! `isLinkLocalMulticast`, `isLinkLocalUnicast`, `isGlobalUnicast`; `cidr()`, `isCIDR()`, a
//! CIDR's `containsIP`, `containsCIDR`, `ip`, `masked`, `prefixLength`; `string()` of both.
//! Addresses are parsed as Go's `netip` does, without IPv4-mapped IPv6 addresses or zones.

use std::net::IpAddr;

use cel::common::types::{CelBool, CelInt, CelString, Kind, Type};
use cel::{DeclarationError, Env, ExecutionError};

static IP_TYPE: Type = Type::simple_type(Kind::Opaque, "net.IP");
static CIDR_TYPE: Type = Type::simple_type(Kind::Opaque, "net.CIDR");

#[derive(Debug, Clone, PartialEq)]
pub struct Ip(IpAddr);

/// An address and a prefix length; the address keeps the bits past the prefix as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Cidr {
    addr: IpAddr,
    bits: u8,
}

super::opaque_value!(Ip, IP_TYPE);
super::opaque_value!(Cidr, CIDR_TYPE);

pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_type(IP_TYPE.to_owned())?;
    env.add_type(CIDR_TYPE.to_owned())?;
    cel::add_overload!(env, fn ip: (CelString) -> Result<Ip>)?;
    cel::add_overload!(env, fn is_ip: (CelString) -> CelBool, name = "isIP")?;
    cel::add_overload!(env, fn is_canonical: (CelString) -> Result<CelBool>, name = "ip.isCanonical")?;
    cel::add_overload!(env, fn ip_string: (Ip) -> CelString, name = "string", id = "ip_to_string")?;
    cel::add_member_overload!(env, fn family: (Ip) -> CelInt)?;
    cel::add_member_overload!(env, fn is_unspecified: (Ip) -> CelBool)?;
    cel::add_member_overload!(env, fn is_loopback: (Ip) -> CelBool)?;
    cel::add_member_overload!(env, fn is_link_local_multicast: (Ip) -> CelBool)?;
    cel::add_member_overload!(env, fn is_link_local_unicast: (Ip) -> CelBool)?;
    cel::add_member_overload!(env, fn is_global_unicast: (Ip) -> CelBool)?;
    cel::add_overload!(env, fn cidr: (CelString) -> Result<Cidr>)?;
    cel::add_overload!(env, fn is_cidr: (CelString) -> CelBool, name = "isCIDR")?;
    cel::add_overload!(env, fn cidr_string: (Cidr) -> CelString, name = "string", id = "cidr_to_string")?;
    cel::add_member_overload!(env, fn contains_ip: (Cidr, Ip) -> CelBool, name = "containsIP")?;
    cel::add_member_overload!(env, fn contains_ip_string: (Cidr, CelString) -> Result<CelBool>, name = "containsIP")?;
    cel::add_member_overload!(env, fn contains_cidr: (Cidr, Cidr) -> CelBool, name = "containsCIDR")?;
    cel::add_member_overload!(env, fn contains_cidr_string: (Cidr, CelString) -> Result<CelBool>, name = "containsCIDR")?;
    cel::add_member_overload!(env, fn cidr_ip: (Cidr) -> Ip, name = "ip")?;
    cel::add_member_overload!(env, fn masked: (Cidr) -> Cidr)?;
    cel::add_member_overload!(env, fn prefix_length: (Cidr) -> CelInt)?;
    Ok(())
}

/// An address as `ip()` accepts it: IPv4 or IPv6, no IPv4-mapped IPv6 address, no zone.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    match text.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => None,
        addr => Some(addr),
    }
}

fn parse_cidr(text: &str) -> Option<Cidr> {
    let (addr, bits) = text.split_once('/')?;
    let addr = parse_ip(addr)?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    // Go's ParsePrefix takes the length in decimal, without a sign or leading zeros.
    if bits.is_empty()
        || !bits.bytes().all(|b| b.is_ascii_digit())
        || bits.len() > 1 && bits.starts_with('0')
    {
        return None;
    }
    let bits: u8 = bits.parse().ok().filter(|b| *b <= max)?;
    Some(Cidr { addr, bits })
}

fn error(function: &str, what: &str, text: &str) -> ExecutionError {
    ExecutionError::function_error(
        function,
        format!("{what} parse error during conversion from string: {text}"),
    )
}

fn ip(text: &CelString<'_>) -> Result<Ip, ExecutionError> {
    parse_ip(text)
        .map(Ip)
        .ok_or_else(|| error("ip", "IP Address", text))
}

fn is_ip(text: &CelString<'_>) -> CelBool {
    parse_ip(text).is_some().into()
}

/// Whether the text is the address as Go would print it (RFC 5952 for IPv6).
fn is_canonical(text: &CelString<'_>) -> Result<CelBool, ExecutionError> {
    let addr = parse_ip(text).ok_or_else(|| error("ip.isCanonical", "IP Address", text))?;
    Ok((addr.to_string() == text.inner()).into())
}

fn ip_string(ip: &Ip) -> CelString<'static> {
    ip.0.to_string().into()
}

fn family(ip: &Ip) -> CelInt {
    CelInt::from(if ip.0.is_ipv4() { 4 } else { 6 })
}

fn is_unspecified(ip: &Ip) -> CelBool {
    ip.0.is_unspecified().into()
}

fn is_loopback(ip: &Ip) -> CelBool {
    ip.0.is_loopback().into()
}

/// 224.0.0.0/24 and ff02::/16 (and the other link-local multicast scopes ffx2::/16).
fn is_link_local_multicast(ip: &Ip) -> CelBool {
    match ip.0 {
        IpAddr::V4(v4) => v4.octets()[..3] == [224, 0, 0],
        IpAddr::V6(v6) => v6.segments()[0] & 0xff0f == 0xff02,
    }
    .into()
}

/// 169.254.0.0/16 and fe80::/10.
fn is_link_local_unicast(ip: &Ip) -> CelBool {
    link_local_unicast(ip.0).into()
}

fn link_local_unicast(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
    }
}

/// As Go's `IsGlobalUnicast`: private and unique-local addresses count as global.
fn is_global_unicast(ip: &Ip) -> CelBool {
    let addr = ip.0;
    let broadcast = matches!(addr, IpAddr::V4(v4) if v4.is_broadcast());
    (!broadcast
        && !addr.is_unspecified()
        && !addr.is_loopback()
        && !addr.is_multicast()
        && !link_local_unicast(addr))
    .into()
}

fn cidr(text: &CelString<'_>) -> Result<Cidr, ExecutionError> {
    parse_cidr(text).ok_or_else(|| error("cidr", "network address", text))
}

fn is_cidr(text: &CelString<'_>) -> CelBool {
    parse_cidr(text).is_some().into()
}

fn cidr_string(cidr: &Cidr) -> CelString<'static> {
    format!("{}/{}", cidr.addr, cidr.bits).into()
}

impl Cidr {
    fn masked(&self) -> Cidr {
        Cidr {
            addr: mask(self.addr, self.bits),
            bits: self.bits,
        }
    }

    fn contains(&self, addr: IpAddr) -> bool {
        addr.is_ipv4() == self.addr.is_ipv4() && mask(addr, self.bits) == mask(self.addr, self.bits)
    }
}

/// The address with every bit past the first `bits` cleared.
fn mask(addr: IpAddr, bits: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let keep = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & keep).into())
        }
        IpAddr::V6(v6) => {
            let keep = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & keep).into())
        }
    }
}

fn contains_ip(cidr: &Cidr, ip: &Ip) -> CelBool {
    cidr.contains(ip.0).into()
}

fn contains_ip_string(cidr: &Cidr, text: &CelString<'_>) -> Result<CelBool, ExecutionError> {
    let addr = parse_ip(text).ok_or_else(|| error("containsIP", "IP Address", text))?;
    Ok(cidr.contains(addr).into())
}

fn contains_cidr(cidr: &Cidr, other: &Cidr) -> CelBool {
    (cidr.bits <= other.bits && cidr.contains(other.addr)).into()
}

fn contains_cidr_string(cidr: &Cidr, text: &CelString<'_>) -> Result<CelBool, ExecutionError> {
    let other = parse_cidr(text).ok_or_else(|| error("containsCIDR", "network address", text))?;
    Ok(contains_cidr(cidr, &other))
}

fn cidr_ip(cidr: &Cidr) -> Ip {
    Ip(cidr.addr)
}

fn masked(cidr: &Cidr) -> Cidr {
    cidr.masked()
}

fn prefix_length(cidr: &Cidr) -> CelInt {
    CelInt::from(i64::from(cidr.bits))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_errors, assert_true};

    /// The examples of ip.go's and cidr.go's documentation.
    #[test]
    fn ips_and_cidrs_as_the_kubernetes_documentation_shows_them() {
        assert_true(&[
            "isIP('127.0.0.1')",
            "isIP('::1')",
            "!isIP('127.0.0.256')",
            "!isIP(':::1')",
            "!isIP('::ffff:127.0.0.1')",
            "!isIP('fe80::1%eth0')",
            "!isIP('127.0.0.01')",
            "ip.isCanonical('127.0.0.1')",
            "ip.isCanonical('2001:db8::abcd')",
            "!ip.isCanonical('2001:DB8::ABCD')",
            "!ip.isCanonical('2001:db8::0:0:0:abcd')",
            "ip('127.0.0.1').family() == 4",
            "ip('::1').family() == 6",
            "ip('0.0.0.0').isUnspecified()",
            "ip('::').isUnspecified()",
            "!ip('127.0.0.1').isUnspecified()",
            "ip('127.0.0.1').isLoopback()",
            "ip('::1').isLoopback()",
            "!ip('1.2.3.4').isLoopback()",
            "ip('224.0.0.1').isLinkLocalMulticast()",
            "ip('ff02::1').isLinkLocalMulticast()",
            "!ip('224.0.1.1').isLinkLocalMulticast()",
            "ip('169.254.169.254').isLinkLocalUnicast()",
            "ip('fe80::1').isLinkLocalUnicast()",
            "!ip('192.168.0.1').isLinkLocalUnicast()",
            "ip('192.168.0.1').isGlobalUnicast()",
            "ip('2001:db8::abcd').isGlobalUnicast()",
            "!ip('255.255.255.255').isGlobalUnicast()",
            "!ip('ff00::1').isGlobalUnicast()",
            "string(ip('127.0.0.1')) == '127.0.0.1'",
            "string(ip('2001:DB8::ABCD')) == '2001:db8::abcd'",
            "ip('127.0.0.1') == ip('127.0.0.1')",
            "ip('::1') != ip('::2')",
            "isCIDR('192.168.0.0/24')",
            "!isCIDR('192.168.0.0')",
            "!isCIDR('192.168.0.0/33')",
            "!isCIDR('192.168.0.0/08')",
            "isCIDR('2001:db8::/32')",
            "cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))",
            "cidr('192.168.0.0/24').containsIP('192.168.0.1')",
            "!cidr('192.168.0.0/24').containsIP(ip('192.168.1.1'))",
            "!cidr('192.168.0.0/24').containsIP(ip('::1'))",
            "cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/25'))",
            "cidr('192.168.0.0/24').containsCIDR('192.168.0.128/25')",
            "!cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/23'))",
            "cidr('192.168.0.1/24').ip() == ip('192.168.0.1')",
            "cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')",
            "cidr('192.168.0.0/24') != cidr('192.168.0.1/24')",
            "cidr('192.168.0.0/24').prefixLength() == 24",
            "cidr('::1/128').prefixLength() == 128",
            "string(cidr('192.168.0.0/24')) == '192.168.0.0/24'",
            "string(cidr('2001:db8::/32').masked()) == '2001:db8::/32'",
        ]);
        assert_errors(&[
            "ip('192.168.0.1.0').family() == 4",
            "cidr('192.168.0.1').prefixLength() == 32",
            "cidr('192.168.0.0/24').containsIP('nope')",
        ]);
    }
}
