//! Retention rules: which records to delete, by resolver and/or content type, older than a
//! maximum age and/or beyond the newest `keep_latest` of each artifact. Configured as
//! `catalog.retention.rules` (`DOCSTOKG_RETENTION_RULES`), one rule per list item (or separated
//! by `;`), each `NAME key=value...`:
//!
//! ```text
//! old-crossref resolver=crossref max_age=90d; latest-3 keep_latest=3
//! ```

use std::{collections::HashSet, time::Duration};

use chrono::{DateTime, Utc};
use docstokg_catalog::{Result, RetentionRuleReport, validation::MAX_ID_BYTES};

use super::{delete::delete_ids, parse_duration};
use crate::{
    cache::RecordCache,
    metadata::{MetadataStore, RetentionSelection},
};

/// One configured retention rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRule {
    /// Its name, reported with what it deleted.
    pub name: String,
    /// Only records of this resolver.
    pub resolver: Option<String>,
    /// Only records of this content type.
    pub content_type: Option<String>,
    /// Only records older than this.
    pub max_age: Option<Duration>,
    /// Keep this many of the newest matching records of each artifact.
    pub keep_latest: Option<u32>,
}

impl RetentionRule {
    /// Parses `NAME key=value...` with keys resolver, content_type, max_age, keep_latest; a rule
    /// needs max_age or keep_latest, or it would delete everything it matches.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let mut words = text.split_whitespace();
        let name = words
            .next()
            .filter(|name| !name.contains('='))
            .ok_or_else(|| format!("rule {text:?} must start with its name"))?;
        let mut rule = Self {
            name: name.to_owned(),
            resolver: None,
            content_type: None,
            max_age: None,
            keep_latest: None,
        };
        for word in words {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| format!("rule {name}: expected key=value, got {word:?}"))?;
            if value.is_empty() || value.len() > MAX_ID_BYTES {
                return Err(format!(
                    "rule {name}: {key} needs a value of 1 to {MAX_ID_BYTES} bytes"
                ));
            }
            match key {
                "resolver" => rule.resolver = Some(value.to_owned()),
                "content_type" => rule.content_type = Some(value.to_owned()),
                "max_age" => {
                    rule.max_age = Some(
                        parse_duration(value).map_err(|e| format!("rule {name}: max_age {e}"))?,
                    )
                }
                "keep_latest" => {
                    rule.keep_latest = Some(value.parse().map_err(|_| {
                        format!("rule {name}: keep_latest must be a whole number, got {value:?}")
                    })?)
                }
                other => {
                    return Err(format!(
                        "rule {name}: unknown key {other:?} (known: resolver, content_type, max_age, keep_latest)"
                    ));
                }
            }
        }
        if rule.max_age.is_none() && rule.keep_latest.is_none() {
            return Err(format!(
                "rule {name} needs max_age or keep_latest: without either it would delete every record it matches"
            ));
        }
        Ok(rule)
    }

    /// Parses rules separated by `;` (the configuration joins YAML list items so); names must be
    /// unique.
    pub fn parse_all(text: &str) -> std::result::Result<Vec<Self>, String> {
        let rules: Vec<Self> = text
            .split(';')
            .filter(|rule| !rule.trim().is_empty())
            .map(Self::parse)
            .collect::<std::result::Result<_, _>>()?;
        let mut names = HashSet::new();
        if let Some(twice) = rules.iter().find(|rule| !names.insert(rule.name.as_str())) {
            return Err(format!("two rules are named {}", twice.name));
        }
        Ok(rules)
    }

    /// The records this rule selects at `now`.
    pub fn selection(&self, now: DateTime<Utc>) -> RetentionSelection {
        RetentionSelection {
            resolver: self.resolver.clone(),
            content_type: self.content_type.clone(),
            created_before: self
                .max_age
                .and_then(|age| chrono::Duration::from_std(age).ok())
                .and_then(|age| now.checked_sub_signed(age)),
            keep_latest: self.keep_latest,
        }
    }
}

/// Applies `rule` (or, with `dry_run`, reports what it would delete).
pub async fn apply_rule(
    metadata: &dyn MetadataStore,
    cache: &RecordCache,
    rule: &RetentionRule,
    dry_run: bool,
) -> Result<RetentionRuleReport> {
    let candidates = metadata
        .lifecycle()
        .retention_candidates(&rule.selection(Utc::now()))
        .await?;
    let mut report = RetentionRuleReport {
        rule: rule.name.clone(),
        matched: candidates.len() as i64,
        matched_bytes: candidates.iter().map(|(_, bytes)| bytes).sum(),
        deleted: 0,
    };
    if !dry_run {
        let ids: Vec<i64> = candidates.into_iter().map(|(id, _)| id).collect();
        for chunk in ids.chunks(super::delete::DELETE_BATCH) {
            report.deleted += delete_ids(metadata, cache, chunk).await?.len() as i64;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_rules_parse_with_their_errors() {
        let rules = RetentionRule::parse_all(
            "old-crossref resolver=crossref max_age=90d; latest-3 keep_latest=3 content_type=application/pdf",
        )
        .expect("valid");
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].resolver.as_deref(), Some("crossref"));
        assert_eq!(rules[0].max_age, Some(Duration::from_secs(90 * 86_400)));
        assert_eq!(rules[1].keep_latest, Some(3));
        assert_eq!(rules[1].content_type.as_deref(), Some("application/pdf"));
        assert!(RetentionRule::parse_all("").expect("none").is_empty());
        for bad in [
            "everything resolver=x",
            "resolver=x max_age=1d",
            "r max_age=1w",
            "r keep_latest=-1",
            "r colour=red keep_latest=1",
            "a keep_latest=1; a keep_latest=2",
        ] {
            assert!(
                RetentionRule::parse_all(bad).is_err(),
                "{bad:?} must be refused"
            );
        }
    }

    #[test]
    fn test_selection_cuts_off_at_max_age() {
        let rule = RetentionRule::parse("r max_age=1d").expect("valid");
        let now = Utc::now();
        assert_eq!(
            rule.selection(now).created_before,
            Some(now - chrono::Duration::days(1))
        );
    }
}
