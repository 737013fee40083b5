//! The HTTP date Flask writes for a datetime (werkzeug's `http_date`, which is Python's
//! `email.utils.format_datetime(dt, usegmt=True)`): `Wed, 26 Nov 2025 16:00:00 GMT`.

/// Seconds from the Unix epoch to 0001-01-01T00:00:00Z, the first instant Python's `datetime`
/// holds.
pub(super) const MIN_SECS: i64 = -62_135_596_800;
/// Seconds from the Unix epoch to 9999-12-31T23:59:59Z, the last whole second it holds.
pub(super) const MAX_SECS: i64 = 253_402_300_799;

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `(year, month 1..=12, day 1..=31)` of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days from 1970-01-01 to the given date (`days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The HTTP date of `secs`, or `None` outside the years 1 to 9999.
pub(super) fn format(secs: i64) -> Option<String> {
    if !(MIN_SECS..=MAX_SECS).contains(&secs) {
        return None;
    }
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday (index 3 from Monday).
    let weekday = DAYS[usize::try_from((days + 3).rem_euclid(7)).ok()?];
    let month = MONTHS[usize::try_from(month - 1).ok()?];
    let (h, m, s) = (rem / 3600, rem / 60 % 60, rem % 60);
    Some(format!(
        "{weekday}, {day:02} {month} {year:04} {h:02}:{m:02}:{s:02} GMT"
    ))
}

/// `secs` as Flask reads back the date it wrote for it: werkzeug parses the text with
/// `email.utils`, which takes a year below 100 for a two-digit year (69 to 99 are 19xx, 0 to 68
/// are 20xx), so `datetime(5, 1, 1)` comes back as 2005-01-01. Other years are unchanged.
pub(super) fn as_flask_reads(secs: i64) -> i64 {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    if year >= 100 {
        return secs;
    }
    let year = year + if year > 68 { 1900 } else { 2000 };
    days_from_civil(year, month, day) * 86_400 + rem
}

/// The seconds of an HTTP date in exactly the form [`format`] writes (weekday included), or
/// `None`.
pub(super) fn parse(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 29 || !text.is_ascii() {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = text.get(range)?;
        digits
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| digits.parse().ok())
            .flatten()
    };
    let day = num(5..7)?;
    let month = MONTHS.iter().position(|m| Some(*m) == text.get(8..11))?;
    let year = num(12..16)?;
    let (h, m, s) = (num(17..19)?, num(20..22)?, num(23..25)?);
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 59 {
        return None;
    }
    let month = i64::try_from(month).ok()? + 1;
    let secs = days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s;
    // Written back, it must be the very same text: this checks the weekday, the separators and
    // days that do not exist (31 Nov).
    (format(secs)? == text).then_some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_below_100_read_back_as_flask_reads_them() {
        // python3 -c 'import werkzeug.http as h, datetime as d; print(h.parse_date(h.http_date(
        //   d.datetime(5, 1, 1, 12, tzinfo=d.timezone.utc))).timestamp())' -> 1104580800.0
        let year_5 = parse("Sat, 01 Jan 0005 12:00:00 GMT").expect("Flask writes it");
        assert_eq!(as_flask_reads(year_5), 1_104_580_800);
        // 1999-12-31 from year 99; 1969 from 69; 2068 from 68; year 100 and later unchanged.
        let year_99 = parse("Thu, 31 Dec 0099 00:00:00 GMT").expect("Flask writes it");
        assert_eq!(as_flask_reads(year_99), 946_598_400);
        let year_69 = days_from_civil(69, 7, 20) * 86_400;
        assert_eq!(
            as_flask_reads(year_69),
            days_from_civil(1969, 7, 20) * 86_400
        );
        let year_68 = days_from_civil(68, 2, 29) * 86_400;
        assert_eq!(
            as_flask_reads(year_68),
            days_from_civil(2068, 2, 29) * 86_400
        );
        let year_100 = days_from_civil(100, 1, 1) * 86_400;
        assert_eq!(as_flask_reads(year_100), year_100);
        assert_eq!(as_flask_reads(1_764_172_800), 1_764_172_800);
    }

    #[test]
    fn dates_match_python_email_utils_format_datetime() {
        // python3 -c 'import email.utils as u, datetime as d; print(u.format_datetime(
        //   d.datetime.fromtimestamp(1764172800, d.timezone.utc), usegmt=True))'
        for (secs, text) in [
            (1_764_172_800, "Wed, 26 Nov 2025 16:00:00 GMT"),
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (-1, "Wed, 31 Dec 1969 23:59:59 GMT"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (MIN_SECS, "Mon, 01 Jan 0001 00:00:00 GMT"),
            (MAX_SECS, "Fri, 31 Dec 9999 23:59:59 GMT"),
        ] {
            assert_eq!(format(secs).as_deref(), Some(text), "{secs}");
            assert_eq!(parse(text), Some(secs), "{text}");
        }
        assert_eq!(format(MIN_SECS - 1), None);
        assert_eq!(format(MAX_SECS + 1), None);
    }

    #[test]
    fn only_the_exact_form_parses() {
        for bad in [
            "Thu, 26 Nov 2025 16:00:00 GMT", // wrong weekday
            "Mon, 31 Nov 2025 16:00:00 GMT", // no such day
            "Wed, 26 Nov 2025 16:00:00 UTC",
            "Wed, 26 Nov 2025 24:00:00 GMT",
            "Wed,  6 Nov 2025 16:00:00 GMT",
            "Wed, 26 nov 2025 16:00:00 GMT",
            "Wed, +6 Nov 2025 16:00:00 GMT",
            "Wed, 26 Nov 2025 16:00:00 GMT ",
            "",
            "Wed, 26 Nov 2025 16:00:0é GMT",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
