//! A small authoritative DNS server over UDP: answers `A` queries from a
//! zone file of `name address` lines, read again for every query, so a
//! test moves a name by rewriting the file.
//!
//! Why not the namespace's hosts file: Envoy 1.40's c-ares resolver reads
//! `/etc/hosts` once and keeps it (measured: a changed entry was not
//! picked up within a minute of 1 s refreshes), while it asks a DNS server
//! again on every refresh. Why not dnsmasq: this is a few dozen lines and
//! needs nothing installed. It speaks just enough of RFC 1035 for stub
//! resolvers: one question, `A` answered with TTL [`TTL_S`], other types
//! of a known name answered with no records, unknown names with NXDOMAIN.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use anyhow::Context;
use tokio::net::UdpSocket;

/// The TTL of every answer (meshplane's Envoys do not follow it; the
/// application's resolver may).
pub const TTL_S: u32 = 1;

const TYPE_A: u16 = 1;
const CLASS_IN: u16 = 1;

/// Serve until the process is killed.
pub async fn serve(listen: SocketAddr, zone: &Path) -> anyhow::Result<()> {
    let socket = UdpSocket::bind(listen)
        .await
        .with_context(|| format!("binding {listen}/udp"))?;
    eprintln!(
        "e2e-backend dns listening on {listen}, zone {}",
        zone.display()
    );
    let mut buf = [0u8; 512];
    loop {
        let (n, peer) = socket.recv_from(&mut buf).await?;
        let records = std::fs::read_to_string(zone).unwrap_or_default();
        if let Some(reply) = answer(&buf[..n], &records) {
            let _ = socket.send_to(&reply, peer).await;
        }
    }
}

/// The address of `name` in `records` (`name address` lines; a trailing
/// dot and case do not matter).
fn lookup(records: &str, name: &str) -> Option<Ipv4Addr> {
    records.lines().find_map(|line| {
        let mut parts = line.split_whitespace();
        let (n, ip) = (parts.next()?, parts.next()?);
        n.trim_end_matches('.')
            .eq_ignore_ascii_case(name)
            .then(|| ip.parse().ok())
            .flatten()
    })
}

/// The reply to one query; `None` for what is not a query.
fn answer(query: &[u8], records: &str) -> Option<Vec<u8>> {
    if query.len() < 12 || query[2] & 0x80 != 0 || u16::from_be_bytes([query[4], query[5]]) != 1 {
        return None;
    }
    // The question: labels up to the root, then type and class.
    let mut pos = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*query.get(pos)?);
        pos += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        labels.push(String::from_utf8_lossy(query.get(pos..pos + len)?).into_owned());
        pos += len;
    }
    let qtype = u16::from_be_bytes([*query.get(pos)?, *query.get(pos + 1)?]);
    let question_end = pos + 4;
    let question = query.get(12..question_end)?;
    let name = labels.join(".");
    let found = lookup(records, &name);
    let answer = found.filter(|_| qtype == TYPE_A);
    let mut reply = Vec::with_capacity(question_end + 16);
    reply.extend_from_slice(&query[0..2]);
    // QR, AA, RD copied; RA; RCODE 0 or NXDOMAIN (3).
    let rd = query[2] & 0x01;
    reply.push(0x84 | rd);
    reply.push(if found.is_some() { 0x80 } else { 0x83 });
    reply.extend_from_slice(&1u16.to_be_bytes());
    reply.extend_from_slice(&u16::from(answer.is_some()).to_be_bytes());
    reply.extend_from_slice(&[0, 0, 0, 0]);
    reply.extend_from_slice(question);
    if let Some(ip) = answer {
        reply.extend_from_slice(&[0xc0, 12]); // the question's name
        reply.extend_from_slice(&TYPE_A.to_be_bytes());
        reply.extend_from_slice(&CLASS_IN.to_be_bytes());
        reply.extend_from_slice(&TTL_S.to_be_bytes());
        reply.extend_from_slice(&4u16.to_be_bytes());
        reply.extend_from_slice(&ip.octets());
    }
    Some(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&CLASS_IN.to_be_bytes());
        q
    }

    #[test]
    fn answers_a_from_the_zone_and_nxdomain_otherwise() {
        let zone = "api.moving.test. 198.18.0.11\n";
        let q = query("API.moving.test", TYPE_A);
        let r = answer(&q, zone).expect("reply");
        assert_eq!(&r[0..2], &[0x12, 0x34]);
        assert_eq!(r[3] & 0x0f, 0, "NOERROR");
        assert_eq!(u16::from_be_bytes([r[6], r[7]]), 1, "one answer");
        assert_eq!(&r[r.len() - 4..], &[198, 18, 0, 11]);
        let aaaa = answer(&query("api.moving.test", 28), zone).expect("reply");
        assert_eq!((aaaa[3] & 0x0f, aaaa[7]), (0, 0), "no AAAA records");
        let missing = answer(&query("other.test", TYPE_A), zone).expect("reply");
        assert_eq!(missing[3] & 0x0f, 3, "NXDOMAIN");
    }
}
