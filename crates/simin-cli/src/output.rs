//! What the CLI prints for its user: text or JSON on stdout, errors on stderr, and dates.

use std::io::Write;

use serde::Serialize;

/// Prints one line of user output on stdout.
pub fn line(text: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed stdout (e.g. `| head`) is not an error worth reporting.
    let _ = writeln!(stdout, "{text}");
}

/// Prints `value` as pretty JSON on stdout.
pub fn json<T: Serialize>(value: &T) {
    let text =
        serde_json::to_string_pretty(value).expect("output values serialize: they are plain data");
    line(&text);
}

/// Prints an error for the user on stderr.
pub fn error(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "error: {text}");
}

/// Prints a notice for the user on stderr (kept off stdout so JSON stays parseable).
pub fn notice(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// `2026-11-24 13:11:21.123 UTC` for a time in milliseconds since the Unix epoch.
pub fn utc_date(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let millis = unix_ms % 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{millis:03} UTC",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Year, month, day of a count of days since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_instants() {
        assert_eq!(utc_date(0), "1970-01-01 00:00:00.000 UTC");
        // 2000-02-29 (a leap day of a century leap year) 12:34:56.789.
        assert_eq!(utc_date(951_827_696_789), "2000-02-29 12:34:56.789 UTC");
        assert_eq!(utc_date(1_795_000_000_000), "2026-11-18 11:06:40.000 UTC");
    }
}
