//! Why no panel meets the quotas: the quotas the closest panel misses, told
//! in the reader's language (texts `panel_miss_*` in templates/locales).
//! Stored as JSON with a finished selection, so each reader gets their own
//! language; printed in English by the command line.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// The quotas cannot all be met by any panel of this size. `conflicts` lists,
/// for the panel that comes closest (fewest members short or too many over
/// all quotas), every quota it misses and by how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfeasibleQuotas {
    pub size: u32,
    pub conflicts: Vec<QuotaMiss>,
    /// For replacements: how many members remain (the quotas in `conflicts`
    /// are then what is left after them).
    pub remaining: Option<u32>,
}

/// One quota the closest panel misses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QuotaMiss {
    /// At least `min` needed, `short` fewer possible with the other quotas.
    Short { feature: String, value: String, min: u32, short: u32, volunteers: u32 },
    /// At most `max` allowed, `over` more needed to fill the panel.
    Over { feature: String, value: String, max: u32, over: u32 },
    /// Replacements: the remaining members alone already exceed `max`.
    AlreadyOver { feature: String, value: String, max: u32, have: u32 },
}

/// `text` of `key` with each `{name}` replaced by its value.
fn fill(lang: Lang, key: &str, values: &[(&str, String)]) -> String {
    values.iter().fold(lang.text(key), |text, (name, value)| text.replace(&format!("{{{name}}}"), value))
}

impl QuotaMiss {
    pub fn explain(&self, lang: Lang) -> String {
        match self {
            QuotaMiss::Short { feature, value, min, short, volunteers } => fill(
                lang,
                "panel_miss_short",
                &[
                    ("feature", feature.clone()),
                    ("value", value.clone()),
                    ("min", min.to_string()),
                    ("possible", min.saturating_sub(*short).to_string()),
                    ("short", short.to_string()),
                    ("volunteers", volunteers.to_string()),
                ],
            ),
            QuotaMiss::Over { feature, value, max, over } => fill(
                lang,
                "panel_miss_over",
                &[
                    ("feature", feature.clone()),
                    ("value", value.clone()),
                    ("max", max.to_string()),
                    ("needed", (max + over).to_string()),
                    ("over", over.to_string()),
                ],
            ),
            QuotaMiss::AlreadyOver { feature, value, max, have } => fill(
                lang,
                "panel_miss_already_over",
                &[
                    ("feature", feature.clone()),
                    ("value", value.clone()),
                    ("max", max.to_string()),
                    ("have", have.to_string()),
                    ("over", have.saturating_sub(*max).to_string()),
                ],
            ),
        }
    }
}

impl InfeasibleQuotas {
    /// What went wrong and what to do, then one line per missed quota.
    pub fn explain(&self, lang: Lang) -> (String, Vec<String>) {
        let lead = match self.remaining {
            None => format!(
                "{} {}",
                fill(lang, "panel_miss_lead", &[("size", self.size.to_string())]),
                lang.text("panel_miss_intro")
            ),
            Some(remaining) => format!(
                "{} {}",
                fill(
                    lang,
                    "panel_miss_lead_replace",
                    &[("size", self.size.to_string()), ("remaining", remaining.to_string())]
                ),
                lang.text("panel_miss_intro_replace")
            ),
        };
        (lead, self.conflicts.iter().map(|c| c.explain(lang)).collect())
    }
}

impl fmt::Display for InfeasibleQuotas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (lead, lines) = self.explain(Lang::En);
        write!(f, "{lead}")?;
        for line in lines {
            write!(f, "\n  - {line}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_miss_is_told_in_both_languages() {
        let miss = InfeasibleQuotas {
            size: 24,
            conflicts: vec![
                QuotaMiss::Short { feature: "geslacht".into(), value: "vrouw".into(), min: 3, short: 1, volunteers: 9 },
                QuotaMiss::Over { feature: "leeftijd".into(), value: "65+".into(), max: 2, over: 1 },
                QuotaMiss::AlreadyOver { feature: "wijk".into(), value: "Centrum".into(), max: 4, have: 6 },
            ],
            remaining: None,
        };
        let text = miss.to_string();
        assert!(text.starts_with("the quotas cannot all be met by a panel of 24 from these volunteers."), "{text}");
        assert!(text.contains("geslacht = vrouw: at least 3 needed, but at most 2 possible"), "{text}");
        assert!(text.contains("leeftijd = 65+: at most 2 allowed, but at least 3 needed"), "{text}");
        assert!(text
            .contains("wijk = Centrum: at most 4 allowed, but the remaining members already have 6 (too many by 2)"));
        let (lead, lines) = miss.explain(Lang::Nl);
        assert!(lead.starts_with("de quota zijn niet allemaal te halen met een panel van 24"), "{lead}");
        assert!(lines[0].starts_with("geslacht = vrouw: minstens 3 nodig"), "{lines:?}");
        for line in lines.iter().chain([&lead]) {
            assert!(!line.contains('{') && !line.contains("panel_miss"), "{line}");
        }
        let replacing = InfeasibleQuotas { remaining: Some(20), ..miss.clone() };
        assert!(replacing.explain(Lang::Nl).0.contains("de 20 overgebleven leden"));
        let json = serde_json::to_string(&miss).unwrap();
        assert_eq!(serde_json::from_str::<InfeasibleQuotas>(&json).unwrap(), miss);
    }
}
