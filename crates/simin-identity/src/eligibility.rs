//! Paperless eligibility: a benefit's requirements as a small policy over the claims of
//! verified credentials, and one pure function deciding whether presented credentials
//! meet them.
//!
//! A policy is JSON, published on chain with the benefit (`DataCall::PublishBenefit`),
//! so an applicant, the deciding office and an auditor read the same text:
//!
//! ```json
//! {"requirements": [
//!   {"credential_type": "CitizenCard", "claim": "birthdate", "age_between": [19, 34]},
//!   {"credential_type": "Residency", "claim": "resident_city", "equals": "Seoul"},
//!   {"credential_type": "MultiChildFamily", "claim": "children_count", "at_least": 2}
//! ]}
//! ```
//!
//! Each requirement names a credential type, a claim, and one test: `equals`, `one_of`,
//! `at_least`, `at_most` (numbers), `age_between` (whole years from a `YYYY-MM-DD` claim,
//! inclusive, at the decision's date) or `present`. A benefit is granted when every
//! requirement holds; the decision lists the requirements that did not. The decision
//! date comes in as an argument: this module reads no clock.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Most requirements of one policy.
pub const REQUIREMENTS_MAX: usize = 32;

/// A benefit's requirements.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub requirements: Vec<Requirement>,
}

/// One requirement: a claim of a credential type, and its test.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub credential_type: String,
    pub claim: String,
    #[serde(flatten)]
    pub test: Test,
}

/// What a claim must satisfy.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    Equals(Value),
    OneOf(Vec<Value>),
    AtLeast(f64),
    AtMost(f64),
    AgeBetween([u32; 2]),
    Present(bool),
}

/// Why a policy cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the policy is not valid: {0}")]
    Invalid(String),
}

impl Policy {
    /// Parses and checks a policy text.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy =
            serde_json::from_str(text).map_err(|e| PolicyError::Invalid(e.to_string()))?;
        if policy.requirements.is_empty() || policy.requirements.len() > REQUIREMENTS_MAX {
            return Err(PolicyError::Invalid(format!(
                "a policy has 1 to {REQUIREMENTS_MAX} requirements"
            )));
        }
        for requirement in &policy.requirements {
            if requirement.credential_type.is_empty() || requirement.claim.is_empty() {
                return Err(PolicyError::Invalid(
                    "a requirement names a credential type and a claim".into(),
                ));
            }
            if let Test::AgeBetween([low, high]) = requirement.test {
                if low > high || high > 150 {
                    return Err(PolicyError::Invalid(format!(
                        "age_between [{low}, {high}] is not a range of ages"
                    )));
                }
            }
        }
        Ok(policy)
    }

    /// The credential types the policy reads, each once, in order.
    pub fn credential_types(&self) -> Vec<&str> {
        let mut types: Vec<&str> = Vec::new();
        for requirement in &self.requirements {
            if !types.contains(&requirement.credential_type.as_str()) {
                types.push(&requirement.credential_type);
            }
        }
        types
    }
}

/// A civil date, the decision's day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// Parses `YYYY-MM-DD` (month 1–12, day 1–31).
    pub fn parse(text: &str) -> Option<Date> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let year: i32 = text.get(0..4)?.parse().ok()?;
        let month: u8 = text.get(5..7)?.parse().ok()?;
        let day: u8 = text.get(8..10)?.parse().ok()?;
        ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(Date { year, month, day })
    }

    /// The UTC date of a Unix time in seconds; `None` outside the calendar's range.
    pub fn from_unix_secs(secs: i64) -> Option<Date> {
        let date = time::OffsetDateTime::from_unix_timestamp(secs).ok()?.date();
        Some(Date {
            year: date.year(),
            month: u8::from(date.month()),
            day: date.day(),
        })
    }

    /// Whole years from `birth` to `self` (0 if `birth` is later).
    pub fn years_since(self, birth: Date) -> u32 {
        let mut years = self.year - birth.year;
        if (self.month, self.day) < (birth.month, birth.day) {
            years -= 1;
        }
        u32::try_from(years).unwrap_or(0)
    }
}

/// The claims one verified credential disclosed.
#[derive(Clone, Debug, PartialEq)]
pub struct Presented<'a> {
    pub credential_type: &'a str,
    pub claims: &'a Map<String, Value>,
}

/// The outcome of a policy over presented credentials.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub eligible: bool,
    /// The requirements that did not hold, as `<type>.<claim>: <why>`.
    pub unmet: Vec<String>,
}

/// Decides whether `presented` meets `policy` on `today`.
pub fn evaluate(policy: &Policy, presented: &[Presented<'_>], today: Date) -> Outcome {
    let mut unmet = Vec::new();
    for requirement in &policy.requirements {
        let name = format!("{}.{}", requirement.credential_type, requirement.claim);
        let value = presented
            .iter()
            .filter(|p| p.credential_type == requirement.credential_type)
            .find_map(|p| p.claims.get(&requirement.claim));
        let Some(value) = value else {
            unmet.push(format!("{name}: not presented"));
            continue;
        };
        if let Some(why) = fails(&requirement.test, value, today) {
            unmet.push(format!("{name}: {why}"));
        }
    }
    Outcome {
        eligible: unmet.is_empty(),
        unmet,
    }
}

fn fails(test: &Test, value: &Value, today: Date) -> Option<String> {
    let number = || value.as_f64();
    match test {
        Test::Present(true) => None,
        Test::Present(false) => Some("must not be presented".into()),
        Test::Equals(expected) => (value != expected).then(|| format!("is not {expected}")),
        Test::OneOf(allowed) => {
            (!allowed.contains(value)).then(|| "is not an allowed value".into())
        }
        Test::AtLeast(min) => match number() {
            Some(n) if n >= *min => None,
            Some(_) => Some(format!("is below {min}")),
            None => Some("is not a number".into()),
        },
        Test::AtMost(max) => match number() {
            Some(n) if n <= *max => None,
            Some(_) => Some(format!("is above {max}")),
            None => Some("is not a number".into()),
        },
        Test::AgeBetween([low, high]) => {
            let Some(birth) = value.as_str().and_then(Date::parse) else {
                return Some("is not a YYYY-MM-DD date".into());
            };
            let age = today.years_since(birth);
            (age < *low || age > *high).then(|| format!("age {age} is outside {low}–{high}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const YOUTH: &str = r#"{"requirements": [
        {"credential_type": "CitizenCard", "claim": "birthdate", "age_between": [19, 34]},
        {"credential_type": "Residency", "claim": "resident_city", "equals": "Seoul"},
        {"credential_type": "MultiChildFamily", "claim": "children_count", "at_least": 2}
    ]}"#;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("an object")
    }

    fn day(text: &str) -> Date {
        Date::parse(text).expect("a date")
    }

    #[test]
    fn all_requirements_met_across_credentials_of_several_agencies() {
        let policy = Policy::parse(YOUTH).expect("valid");
        assert_eq!(
            policy.credential_types(),
            ["CitizenCard", "Residency", "MultiChildFamily"]
        );
        let card = claims(json!({"birthdate": "2000-05-01"}));
        let residency = claims(json!({"resident_city": "Seoul"}));
        let family = claims(json!({"children_count": 3}));
        let presented = [
            Presented {
                credential_type: "CitizenCard",
                claims: &card,
            },
            Presented {
                credential_type: "Residency",
                claims: &residency,
            },
            Presented {
                credential_type: "MultiChildFamily",
                claims: &family,
            },
        ];
        let outcome = evaluate(&policy, &presented, day("2026-11-24"));
        assert_eq!(
            outcome,
            Outcome {
                eligible: true,
                unmet: vec![]
            }
        );
    }

    #[test]
    fn each_unmet_requirement_is_named() {
        let policy = Policy::parse(YOUTH).expect("valid");
        let card = claims(json!({"birthdate": "1990-11-25"}));
        let residency = claims(json!({"resident_city": "Busan"}));
        let presented = [
            Presented {
                credential_type: "CitizenCard",
                claims: &card,
            },
            Presented {
                credential_type: "Residency",
                claims: &residency,
            },
        ];
        let outcome = evaluate(&policy, &presented, day("2026-11-24"));
        assert!(!outcome.eligible);
        assert_eq!(
            outcome.unmet,
            [
                "CitizenCard.birthdate: age 35 is outside 19–34",
                "Residency.resident_city: is not \"Seoul\"",
                "MultiChildFamily.children_count: not presented",
            ]
        );
    }

    #[test]
    fn ages_count_whole_years_at_the_decision_date() {
        let birth = day("2007-11-25");
        assert_eq!(day("2026-11-24").years_since(birth), 18);
        assert_eq!(day("2026-11-25").years_since(birth), 19);
        assert_eq!(day("2000-01-01").years_since(birth), 0);
        assert_eq!(Date::parse("2026-13-01"), None);
        assert_eq!(Date::parse("26-1-1"), None);
        assert_eq!(Date::from_unix_secs(1_795_000_000), Some(day("2026-11-18")));
    }

    #[test]
    fn a_claim_from_another_credential_type_does_not_count() {
        let policy = Policy::parse(
            r#"{"requirements": [{"credential_type": "Residency", "claim": "resident_district", "present": true}]}"#,
        )
        .expect("valid");
        let card = claims(json!({"resident_district": "Mapo-gu"}));
        let presented = [Presented {
            credential_type: "CitizenCard",
            claims: &card,
        }];
        assert!(!evaluate(&policy, &presented, day("2026-11-24")).eligible);
    }

    #[test]
    fn malformed_policies_are_refused() {
        for bad in [
            "{}",
            r#"{"requirements": []}"#,
            r#"{"requirements": [{"credential_type": "A", "claim": "b"}]}"#,
            r#"{"requirements": [{"credential_type": "A", "claim": "b", "age_between": [40, 20]}]}"#,
            r#"{"requirements": [{"credential_type": "A", "claim": "b", "equals": 1}], "extra": 1}"#,
            r#"{"requirements": [{"credential_type": "A", "claim": "b", "sounds_like": 1}]}"#,
        ] {
            assert!(Policy::parse(bad).is_err(), "{bad}");
        }
    }
}
