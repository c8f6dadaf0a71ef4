//! The longest duration the proxy accepts. The API takes any non-negative
//! `Long` with a unit, but the proxy refuses a protobuf duration of
//! 9,223,372,036 seconds or more (its nanosecond count would overflow a
//! signed 64-bit integer; measured: 9223372035.999 s is accepted,
//! 9223372036 s is refused as "Duration out-of-range").

use super::context::{Path, Sink};
use crate::common::{Duration, DurationUnit};

/// The rule id of a duration the proxy refuses.
pub(crate) const RULE: &str = "duration.limit";

/// The largest accepted duration in milliseconds.
const MAX_MILLIS: i64 = 9_223_372_035_999;

/// Reports `d` at `p` (the duration's path) when it is too long.
pub(crate) fn duration_limit(s: &mut Sink, p: &Path, d: &Duration) {
    if !s.rules.proxy_compatibility {
        return;
    }
    let Some(value) = d.value else { return };
    if d.as_millis() <= MAX_MILLIS {
        return;
    }
    let (max, unit) = match d.unit.unwrap_or(DurationUnit::S) {
        DurationUnit::S => (MAX_MILLIS / 1000, "s"),
        DurationUnit::Ms => (MAX_MILLIS, "ms"),
    };
    s.error(
        RULE,
        &p.field("value"),
        format!(
            "{value} {unit} is longer than a proxy accepts; the largest duration is {max} {unit} (about 292 years)"
        ),
    );
}
