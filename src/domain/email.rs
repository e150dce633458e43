//! E-mail addresses (CT-5): one RFC 5322 `addr-spec`, internationalised (RFC 6532) allowed.

use std::fmt;

/// The longest address accepted, in characters.
pub(crate) const MAX_EMAIL_CHARS: usize = 254;
const MAX_LOCAL_OCTETS: usize = 64;
const MAX_LABEL_OCTETS: usize = 63;
const ATEXT_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";

/// A single e-mail address `local@domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

/// Why a value is not one RFC 5322 `addr-spec` (CT-5). Texts never echo the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailProblem {
    /// Empty value.
    #[error("is empty: an email entry needs an address local@domain")]
    Empty,
    /// Longer than 254 characters.
    #[error("is {0} characters long; at most {MAX_EMAIL_CHARS} are allowed")]
    TooLong(usize),
    /// `Name <addr>` form.
    #[error("has a display name or angle brackets; send only the address itself, local@domain")]
    DisplayName,
    /// A `(comment)`.
    #[error("contains a comment in parentheses; send only the address itself")]
    Comment,
    /// A group `name: a@b, c@d;`.
    #[error("is an address group (name: ...;); send one address")]
    Group,
    /// A list of addresses.
    #[error("holds several addresses; send exactly one (one email entry per person, CT-3)")]
    Several,
    /// Whitespace outside a quoted local part.
    #[error("contains whitespace; an address has none outside quotes")]
    Whitespace,
    /// No `@`.
    #[error("has no '@': must be local@domain")]
    MissingAt,
    /// Local part empty, too long or not a dot-atom / quoted string.
    #[error("local part (before '@') {0}")]
    LocalPart(&'static str),
    /// Domain empty or not a host name / address literal.
    #[error("domain (after '@') {0}")]
    Domain(&'static str),
}

impl EmailAddress {
    /// Checks that `value` is exactly one addr-spec (CT-5).
    pub fn parse(value: &str) -> Result<Self, EmailProblem> {
        if value.is_empty() {
            return Err(EmailProblem::Empty);
        }
        let chars = value.chars().count();
        if chars > MAX_EMAIL_CHARS {
            return Err(EmailProblem::TooLong(chars));
        }
        reject_non_addr_spec_forms(value)?;
        let at = last_unquoted_at(value).ok_or(EmailProblem::MissingAt)?;
        check_local_part(&value[..at])?;
        check_domain(&value[at + 1..])?;
        Ok(Self(value.to_owned()))
    }

    /// A value read back from our own storage, which only ever held validated values.
    pub(crate) fn from_stored(value: String) -> Self {
        Self(value)
    }

    /// The address as stored and sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The characters of `value` that stand outside a quoted string.
fn unquoted_chars(value: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut in_quotes = false;
    let mut escaped = false;
    value.char_indices().filter(move |&(_, c)| {
        if escaped {
            escaped = false;
            return false;
        }
        match c {
            '\\' if in_quotes => {
                escaped = true;
                false
            }
            '"' => {
                in_quotes = !in_quotes;
                false
            }
            _ => !in_quotes,
        }
    })
}

/// Tells display names, comments, groups and lists apart from a bare address.
fn reject_non_addr_spec_forms(value: &str) -> Result<(), EmailProblem> {
    let outside: Vec<char> = unquoted_chars(value).map(|(_, c)| c).collect();
    let has = |set: &[char]| outside.iter().any(|c| set.contains(c));
    if has(&['<', '>']) {
        return Err(EmailProblem::DisplayName);
    }
    if has(&[':']) && outside.last() == Some(&';') {
        return Err(EmailProblem::Group);
    }
    if has(&[',', ';']) || outside.iter().filter(|&&c| c == '@').count() > 1 {
        return Err(EmailProblem::Several);
    }
    if has(&['(', ')']) {
        return Err(EmailProblem::Comment);
    }
    if outside.iter().any(|c| c.is_whitespace()) {
        return Err(EmailProblem::Whitespace);
    }
    Ok(())
}

fn last_unquoted_at(value: &str) -> Option<usize> {
    unquoted_chars(value)
        .filter(|&(_, c)| c == '@')
        .map(|(i, _)| i)
        .last()
}

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || ATEXT_SPECIALS.contains(c)
        || !c.is_ascii() && !c.is_control() && !c.is_whitespace()
}

fn check_local_part(local: &str) -> Result<(), EmailProblem> {
    if local.is_empty() {
        return Err(EmailProblem::LocalPart("is empty"));
    }
    if local.len() > MAX_LOCAL_OCTETS {
        return Err(EmailProblem::LocalPart("is longer than 64 octets"));
    }
    if local.starts_with('"') {
        return check_quoted_local(local);
    }
    check_dot_atom(local).map_err(EmailProblem::LocalPart)
}

fn check_dot_atom(s: &str) -> Result<(), &'static str> {
    if s.starts_with('.') || s.ends_with('.') {
        return Err("must not start or end with '.'");
    }
    if s.contains("..") {
        return Err("must not contain '..'");
    }
    if !s.chars().all(|c| c == '.' || is_atext(c)) {
        return Err("contains a character not allowed outside quotes");
    }
    Ok(())
}

fn check_quoted_local(local: &str) -> Result<(), EmailProblem> {
    let inner = local
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .filter(|s| !s.is_empty())
        .ok_or(EmailProblem::LocalPart(
            "has an unbalanced or empty quoted string",
        ))?;
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars
                    .next()
                    .filter(|e| !e.is_control() || *e == '\t')
                    .ok_or(EmailProblem::LocalPart("ends in a lone backslash"))?;
            }
            '"' => {
                return Err(EmailProblem::LocalPart(
                    "has a quote inside a quoted string that is not escaped",
                ))
            }
            c if c.is_control() && c != '\t' => {
                return Err(EmailProblem::LocalPart("contains a control character"))
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), EmailProblem> {
    if domain.is_empty() {
        return Err(EmailProblem::Domain("is empty"));
    }
    if let Some(literal) = domain.strip_prefix('[') {
        return check_address_literal(literal);
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(EmailProblem::Domain(
            "must be a fully qualified name such as example.se",
        ));
    }
    for label in &labels {
        check_label(label)?;
    }
    let tld = labels.last().copied().unwrap_or_default();
    if tld.chars().all(|c| c.is_ascii_digit()) {
        return Err(EmailProblem::Domain("has an all-numeric top-level label"));
    }
    Ok(())
}

fn check_label(label: &str) -> Result<(), EmailProblem> {
    if label.is_empty() {
        return Err(EmailProblem::Domain(
            "has an empty label ('..' or a leading or trailing '.')",
        ));
    }
    if label.len() > MAX_LABEL_OCTETS {
        return Err(EmailProblem::Domain("has a label longer than 63 octets"));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(EmailProblem::Domain(
            "has a label that starts or ends with '-'",
        ));
    }
    if !label.chars().all(|c| c == '-' || c.is_alphanumeric()) {
        return Err(EmailProblem::Domain(
            "contains a character not allowed in a host name",
        ));
    }
    Ok(())
}

fn check_address_literal(rest: &str) -> Result<(), EmailProblem> {
    let inner = rest
        .strip_suffix(']')
        .ok_or(EmailProblem::Domain("has an unclosed '[' address literal"))?;
    let ok = match inner.strip_prefix("IPv6:") {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => inner.parse::<std::net::Ipv4Addr>().is_ok(),
    };
    if ok {
        Ok(())
    } else {
        Err(EmailProblem::Domain(
            "is an address literal that is not a valid IPv4 or IPv6: address",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ct5_accepts_addr_specs_including_internationalised_domains() {
        for a in [
            "anna@example.se",
            "namn@domän.se",
            "a.b+tag@sub.example.com",
            "\"john doe\"@example.org",
            "x@[192.0.2.1]",
            "åsa@exempel.se",
        ] {
            assert!(
                EmailAddress::parse(a).is_ok(),
                "{a}: {:?}",
                EmailAddress::parse(a)
            );
        }
    }

    #[test]
    fn ct5_rejects_display_names_comments_groups_and_lists() {
        assert_eq!(
            EmailAddress::parse("Anna <anna@example.se>"),
            Err(EmailProblem::DisplayName)
        );
        assert_eq!(
            EmailAddress::parse("anna@example.se (Anna)"),
            Err(EmailProblem::Comment)
        );
        assert_eq!(
            EmailAddress::parse("friends: a@example.se, b@example.se;"),
            Err(EmailProblem::Group)
        );
        assert_eq!(
            EmailAddress::parse("a@example.se, b@example.se"),
            Err(EmailProblem::Several)
        );
        assert_eq!(
            EmailAddress::parse("a@example.se;b@example.se"),
            Err(EmailProblem::Several)
        );
    }

    #[test]
    fn ct5_rejects_malformed_addresses() {
        for a in [
            "anna",
            "@example.se",
            "anna@",
            "anna@localhost",
            "an..na@example.se",
            ".anna@example.se",
            "anna@exa mple.se",
            "anna@-example.se",
            "anna@example..se",
            "anna@example.123",
        ] {
            assert!(EmailAddress::parse(a).is_err(), "{a} accepted");
        }
        let long = format!("{}@example.se", "a".repeat(250));
        assert!(matches!(
            EmailAddress::parse(&long),
            Err(EmailProblem::TooLong(_))
        ));
        let long_local = format!("{}@example.se", "a".repeat(65));
        assert!(matches!(
            EmailAddress::parse(&long_local),
            Err(EmailProblem::LocalPart(_))
        ));
    }
}
