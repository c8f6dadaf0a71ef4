//! Translating many proxies on every core: a reload that re-translates a
//! whole mesh (the first one, a change every proxy uses) is CPU work per
//! proxy, independent from one proxy to the next
//! (`meshplane_spec::parallel::map`).

pub(super) use meshplane_spec::parallel::map;

/// How many proxies a reload translates before publishing them.
pub(super) const BATCH: usize = 256;
