//! The memory allocator's own figures on `/metrics`: how much of the
//! server's RSS is live data and how much is pages the allocator holds.
//!
//! The binary that chose the allocator reads them (`meshplane serve` with
//! jemalloc on Linux) and hands the reader to the admin server; a server
//! without one (another allocator, an in-process test server) shows no
//! allocator gauges rather than zeros.

use std::fmt::Write as _;
use std::sync::Arc;

/// One reading of the allocator's statistics, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocatorStats {
    /// Bytes the program's live allocations hold.
    pub allocated: u64,
    /// Bytes of the pages that hold live allocations (allocated plus the
    /// free space inside those pages).
    pub active: u64,
    /// Bytes of the allocator's own bookkeeping.
    pub metadata: u64,
    /// Bytes of resident pages the allocator maps: active, metadata, and
    /// freed pages not yet given back to the system.
    pub resident: u64,
    /// Bytes of the allocator's mappings that hold active pages.
    pub mapped: u64,
    /// Bytes of address space kept mapped but given back to the system
    /// (not resident), for reuse.
    pub retained: u64,
}

/// Reads the allocator's statistics; `None` when they cannot be read.
#[derive(Clone)]
pub struct AllocatorStatsFn(pub Arc<dyn Fn() -> Option<AllocatorStats> + Send + Sync>);

impl std::fmt::Debug for AllocatorStatsFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AllocatorStatsFn")
    }
}

/// The gauges, in the Prometheus text format, of one reading.
pub fn render(stats: &AllocatorStats) -> String {
    let gauges: [(&str, u64, &str); 6] = [
        (
            "meshplane_allocator_allocated_bytes",
            stats.allocated,
            "Bytes held by the server's live allocations (jemalloc stats.allocated).",
        ),
        (
            "meshplane_allocator_active_bytes",
            stats.active,
            "Bytes of the allocator's pages that hold live allocations, including the free space inside them (jemalloc stats.active).",
        ),
        (
            "meshplane_allocator_metadata_bytes",
            stats.metadata,
            "Bytes of the allocator's own bookkeeping (jemalloc stats.metadata).",
        ),
        (
            "meshplane_allocator_resident_bytes",
            stats.resident,
            "Bytes of resident pages the allocator maps: active, metadata, and freed pages not yet given back to the system (jemalloc stats.resident); resident minus allocated is what the allocator holds beyond live data.",
        ),
        (
            "meshplane_allocator_mapped_bytes",
            stats.mapped,
            "Bytes of the allocator's mappings that hold active pages (jemalloc stats.mapped).",
        ),
        (
            "meshplane_allocator_retained_bytes",
            stats.retained,
            "Bytes of address space the allocator keeps mapped after giving the pages back to the system: not resident, kept for reuse (jemalloc stats.retained).",
        ),
    ];
    let mut out = String::new();
    for (name, value, help) in gauges {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        let _ = writeln!(out, "{name} {value}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gauge_has_help_type_and_its_value() {
        let text = render(&AllocatorStats {
            allocated: 1,
            active: 2,
            metadata: 3,
            resident: 4,
            mapped: 5,
            retained: 6,
        });
        for (name, value) in [
            ("allocated", 1),
            ("active", 2),
            ("metadata", 3),
            ("resident", 4),
            ("mapped", 5),
            ("retained", 6),
        ] {
            let name = format!("meshplane_allocator_{name}_bytes");
            assert!(text.contains(&format!("# HELP {name} ")), "{text}");
            assert!(text.contains(&format!("# TYPE {name} gauge\n")), "{text}");
            assert!(text.contains(&format!("\n{name} {value}\n")), "{text}");
        }
    }
}
