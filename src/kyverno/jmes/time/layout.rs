//! Go reference-time layouts (`"2006-01-02T15:04:05Z07:00"`) translated to
//! chrono parse items, with Go's defaults for omitted fields (year 0,
//! January 1st, midnight, UTC).

use chrono::format::{Fixed, Item, Numeric, Pad, Parsed, parse};
use chrono::{DateTime, FixedOffset};

/// Go's `time.Parse(layout, value)`.
pub fn parse_time(layout: &str, value: &str) -> Result<DateTime<FixedOffset>, String> {
    let items = translate(layout);
    let mut parsed = Parsed::new();
    let bad = |e: chrono::ParseError| format!("parsing time \"{value}\" as \"{layout}\": {e}");
    parse(&mut parsed, value, items.iter()).map_err(bad)?;
    apply_defaults(&mut parsed).map_err(bad)?;
    parsed.to_datetime().map_err(bad)
}

/// Layout tokens, longest first within each family (as Go's `nextStdChunk`).
const TOKENS: &[(&str, Token)] = &[
    ("January", Token::Fixed(Fixed::LongMonthName)),
    ("Jan", Token::Fixed(Fixed::ShortMonthName)),
    ("Monday", Token::Fixed(Fixed::LongWeekdayName)),
    ("Mon", Token::Fixed(Fixed::ShortWeekdayName)),
    ("MST", Token::Fixed(Fixed::TimezoneName)),
    ("2006", Token::Num(Numeric::Year, Pad::Zero)),
    ("002", Token::Num(Numeric::Ordinal, Pad::Zero)),
    ("01", Token::Num(Numeric::Month, Pad::Zero)),
    ("02", Token::Num(Numeric::Day, Pad::Zero)),
    ("03", Token::Num(Numeric::Hour12, Pad::Zero)),
    ("04", Token::Num(Numeric::Minute, Pad::Zero)),
    ("05", Token::Second),
    ("06", Token::Num(Numeric::YearMod100, Pad::Zero)),
    ("15", Token::Num(Numeric::Hour, Pad::Zero)),
    ("_2", Token::Num(Numeric::Day, Pad::Space)),
    ("1", Token::Num(Numeric::Month, Pad::None)),
    ("2", Token::Num(Numeric::Day, Pad::None)),
    ("3", Token::Num(Numeric::Hour12, Pad::None)),
    ("4", Token::Num(Numeric::Minute, Pad::None)),
    ("5", Token::Second),
    ("PM", Token::Fixed(Fixed::UpperAmPm)),
    ("pm", Token::Fixed(Fixed::LowerAmPm)),
    ("Z07:00", Token::Fixed(Fixed::TimezoneOffsetColonZ)),
    ("Z0700", Token::Fixed(Fixed::TimezoneOffsetZ)),
    ("Z07", Token::Fixed(Fixed::TimezoneOffsetZ)),
    ("-07:00", Token::Fixed(Fixed::TimezoneOffsetColon)),
    ("-0700", Token::Fixed(Fixed::TimezoneOffset)),
    ("-07", Token::Fixed(Fixed::TimezoneOffset)),
];

#[derive(Clone)]
enum Token {
    Num(Numeric, Pad),
    Fixed(Fixed),
    /// Seconds; Go accepts a fractional part even if the layout has none.
    Second,
}

fn translate(layout: &str) -> Vec<Item<'_>> {
    let mut items = Vec::new();
    let mut rest = layout;
    while let Some(c) = rest.chars().next() {
        if let Some(len) = fraction_len(rest) {
            items.push(Item::Fixed(Fixed::Nanosecond));
            rest = rest.get(len..).unwrap_or("");
            continue;
        }
        if let Some((text, token)) = TOKENS.iter().find(|(t, _)| rest.starts_with(t)) {
            rest = rest.get(text.len()..).unwrap_or("");
            push_token(&mut items, token.clone(), fraction_len(rest).is_some());
            continue;
        }
        let (head, tail) = rest.split_at(c.len_utf8());
        items.push(if c.is_whitespace() {
            Item::Space(head)
        } else {
            Item::Literal(head)
        });
        rest = tail;
    }
    items
}

fn push_token<'a>(items: &mut Vec<Item<'a>>, token: Token, fraction_follows: bool) {
    match token {
        Token::Num(numeric, pad) => items.push(Item::Numeric(numeric, pad)),
        Token::Fixed(fixed) => items.push(Item::Fixed(fixed)),
        Token::Second => {
            items.push(Item::Numeric(Numeric::Second, Pad::Zero));
            if !fraction_follows {
                items.push(Item::Fixed(Fixed::Nanosecond));
            }
        }
    }
}

/// Length of a `.000`/`.999` fractional-seconds element at the start of `text`.
fn fraction_len(text: &str) -> Option<usize> {
    let digits = text.strip_prefix('.')?;
    let first = digits.chars().next().filter(|c| *c == '0' || *c == '9')?;
    let run = digits.chars().take_while(|c| *c == first).count();
    // Go only treats it as a fraction when no other digit follows.
    let next_is_digit = digits.chars().nth(run).is_some_and(|c| c.is_ascii_digit());
    (!next_is_digit).then_some(1 + run)
}

fn apply_defaults(parsed: &mut Parsed) -> chrono::ParseResult<()> {
    if parsed.year().is_none() {
        match parsed.year_mod_100() {
            // Go's two-digit years: 69..99 → 19xx, 00..68 → 20xx.
            Some(yy) => parsed.set_year(i64::from(if yy >= 69 { 1900 + yy } else { 2000 + yy }))?,
            None => parsed.set_year(0)?,
        }
    }
    if parsed.ordinal().is_none() {
        if parsed.month().is_none() {
            parsed.set_month(1)?;
        }
        if parsed.day().is_none() {
            parsed.set_day(1)?;
        }
    }
    if parsed.hour_mod_12().is_none() {
        parsed.set_hour(0)?;
    } else if parsed.hour_div_12().is_none() {
        parsed.set_ampm(false)?;
    }
    if parsed.minute().is_none() {
        parsed.set_minute(0)?;
    }
    if parsed.offset().is_none() {
        parsed.set_offset(0)?;
    }
    Ok(())
}
