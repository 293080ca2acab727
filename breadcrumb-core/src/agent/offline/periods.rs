//! Periods in words ("last month", "this year", "in 2025", "last 30 days", "in march") as a
//! half-open range of dates. The range is computed here and written as two literal dates, so
//! one comparison works on every dialect and on dates, timestamps and ISO text alike.

use chrono::{Datelike, Duration, NaiveDate};

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Period {
    /// The first day in the period.
    pub from: NaiveDate,
    /// The first day after it.
    pub to: NaiveDate,
    /// How the question said it, for the answer ("last month").
    pub said: String,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month_start(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1)
}

fn next_month(d: NaiveDate) -> Option<NaiveDate> {
    if d.month() == 12 {
        month_start(d.year() + 1, 1)
    } else {
        month_start(d.year(), d.month() + 1)
    }
}

fn is_year(w: &str) -> bool {
    w.len() == 4 && w.parse::<i32>().is_ok_and(|y| (1900..=2100).contains(&y))
}

fn period(from: NaiveDate, to: NaiveDate, said: &str) -> Option<Period> {
    Some(Period {
        from,
        to,
        said: said.to_string(),
    })
}

/// The period the words name, as of `today`; `None` when they name none.
pub(super) fn find(ws: &[String], today: NaiveDate) -> Option<Period> {
    let w = |i: usize| ws.get(i).map(String::as_str).unwrap_or("");
    let week_start = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let this_month = month_start(today.year(), today.month())?;
    // A bare year or month name is a period only after "in" ("in 2025", "in march"): "orders
    // over 2000" is an amount, and "may" is mostly not a month.
    let after_in = |i: usize| i > 0 && matches!(w(i - 1), "in" | "during" | "for" | "throughout");
    for i in 0..ws.len() {
        match (w(i), w(i + 1), w(i + 2)) {
            ("today", ..) => return period(today, today + Duration::days(1), "today"),
            ("yesterday", ..) => return period(today - Duration::days(1), today, "yesterday"),
            ("this" | "current", "week", _) => {
                return period(week_start, week_start + Duration::days(7), "this week");
            }
            ("last" | "previous" | "past", "week", _) => {
                return period(week_start - Duration::days(7), week_start, "last week");
            }
            ("this" | "current", "month", _) => {
                return period(this_month, next_month(this_month)?, "this month");
            }
            ("last" | "previous" | "past", "month", _) => {
                let last = if this_month.month() == 1 {
                    month_start(this_month.year() - 1, 12)?
                } else {
                    month_start(this_month.year(), this_month.month() - 1)?
                };
                return period(last, this_month, "last month");
            }
            ("this" | "current", "year", _) => {
                let y = today.year();
                return period(month_start(y, 1)?, month_start(y + 1, 1)?, "this year");
            }
            ("last" | "previous" | "past", "year", _) => {
                let y = today.year() - 1;
                return period(month_start(y, 1)?, month_start(y + 1, 1)?, "last year");
            }
            ("last" | "past", n, unit)
                if n.parse::<i64>().is_ok_and(|n| (1..=3660).contains(&n)) =>
            {
                let n: i64 = n.parse().ok()?;
                let days = match unit {
                    "day" | "days" => n,
                    "week" | "weeks" => n * 7,
                    "month" | "months" => n * 30,
                    "year" | "years" => n * 365,
                    _ => continue,
                };
                return period(
                    today + Duration::days(1) - Duration::days(days),
                    today + Duration::days(1),
                    &format!("in the last {n} {unit}"),
                );
            }
            (m, y, _) if MONTHS.contains(&m) && (after_in(i) || is_year(y)) => {
                let month = MONTHS.iter().position(|x| *x == m)? as u32 + 1;
                // "in march" is the latest March that has begun; "march 2025" the one named.
                let year = match y.parse::<i32>() {
                    Ok(y) if (1900..=2100).contains(&y) => y,
                    _ if month <= today.month() => today.year(),
                    _ => today.year() - 1,
                };
                let from = month_start(year, month)?;
                let said = format!("in {} {year}", m[..1].to_uppercase() + &m[1..]);
                return period(from, next_month(from)?, &said);
            }
            (y, ..) if is_year(y) && after_in(i) => {
                let y: i32 = y.parse().ok()?;
                return period(
                    month_start(y, 1)?,
                    month_start(y + 1, 1)?,
                    &format!("in {y}"),
                );
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn periods_in_words_become_date_ranges() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 14).unwrap();
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        for (q, from, to) in [
            ("orders last month", d(2025, 12, 1), d(2026, 1, 1)),
            ("revenue this month", d(2026, 1, 1), d(2026, 2, 1)),
            ("orders in 2025", d(2025, 1, 1), d(2026, 1, 1)),
            ("sales this year", d(2026, 1, 1), d(2027, 1, 1)),
            ("orders last year", d(2025, 1, 1), d(2026, 1, 1)),
            ("orders last 7 days", d(2026, 1, 8), d(2026, 1, 15)),
            ("orders today", d(2026, 1, 14), d(2026, 1, 15)),
            ("orders this week", d(2026, 1, 12), d(2026, 1, 19)),
            ("orders last week", d(2026, 1, 5), d(2026, 1, 12)),
            ("orders in march", d(2025, 3, 1), d(2025, 4, 1)),
            ("orders in january", d(2026, 1, 1), d(2026, 2, 1)),
            ("orders in march 2024", d(2024, 3, 1), d(2024, 4, 1)),
        ] {
            let p = find(&ws(q), today).unwrap_or_else(|| panic!("{q}"));
            assert_eq!((p.from, p.to), (from, to), "{q}");
        }
        assert_eq!(find(&ws("top 5 products"), today), None);
        assert_eq!(find(&ws("orders over 2000"), today), None);
        assert_eq!(find(&ws("may i see the orders"), today), None);
    }
}
