//! The server's memory allocator and the statistics `/metrics` shows of it.
//!
//! On Linux meshplane allocates with jemalloc, built to give pages freed for
//! 100 ms back to the system (`.cargo/config.toml`): glibc's malloc keeps
//! what a reload frees, so at 25,000 proxies the server's RSS grew from
//! 837 MiB synced to 913 MiB after ten changes; with jemalloc it is about
//! 810 MiB synced and 830 MiB after ten changes. The gauges show where the
//! rest of the RSS is: at 25,000 proxies live allocations barely grow over
//! changes (a few MiB once, after the first patched reload), while the
//! pages the allocator holds beyond them (resident minus allocated) follow
//! each reload's garbage until the decay returns it. Elsewhere the system
//! allocator serves, and `/metrics` has no allocator gauges.

use meshplane_control::AllocatorStatsFn;

#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The reader of jemalloc's statistics for `/metrics`, or `None` when they
/// cannot be read (the server then serves without the gauges).
#[cfg(target_os = "linux")]
pub fn stats_reader() -> Option<AllocatorStatsFn> {
    match jemalloc::Mibs::new() {
        Ok(mibs) => Some(AllocatorStatsFn(std::sync::Arc::new(move || {
            mibs.read()
                .map_err(|e| tracing::warn!(error = %e, "cannot read jemalloc's statistics"))
                .ok()
        }))),
        Err(e) => {
            tracing::warn!(error = %e, "jemalloc's statistics are not available; /metrics has no allocator gauges");
            None
        }
    }
}

/// Without jemalloc there is nothing to read.
#[cfg(not(target_os = "linux"))]
pub fn stats_reader() -> Option<AllocatorStatsFn> {
    None
}

#[cfg(target_os = "linux")]
mod jemalloc {
    use meshplane_control::AllocatorStats;
    use tikv_jemalloc_ctl::{epoch, epoch_mib, stats, Error};

    /// The statistics' names, looked up once: a scrape then costs one epoch
    /// advance (jemalloc refreshes its cached totals) and six reads.
    pub struct Mibs {
        epoch: epoch_mib,
        allocated: stats::allocated_mib,
        active: stats::active_mib,
        metadata: stats::metadata_mib,
        resident: stats::resident_mib,
        mapped: stats::mapped_mib,
        retained: stats::retained_mib,
    }

    impl Mibs {
        pub fn new() -> Result<Mibs, Error> {
            Ok(Mibs {
                epoch: epoch::mib()?,
                allocated: stats::allocated::mib()?,
                active: stats::active::mib()?,
                metadata: stats::metadata::mib()?,
                resident: stats::resident::mib()?,
                mapped: stats::mapped::mib()?,
                retained: stats::retained::mib()?,
            })
        }

        pub fn read(&self) -> Result<AllocatorStats, Error> {
            self.epoch.advance()?;
            Ok(AllocatorStats {
                allocated: self.allocated.read()? as u64,
                active: self.active.read()? as u64,
                metadata: self.metadata.read()? as u64,
                resident: self.resident.read()? as u64,
                mapped: self.mapped.read()? as u64,
                retained: self.retained.read()? as u64,
            })
        }
    }
}
