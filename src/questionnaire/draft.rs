//! The designer's working copy of a questionnaire: the file format, edited
//! step by step and allowed to be unfinished. Publishing checks it whole and
//! turns it into a new immutable version; the draft then goes away.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::model::{Definition, Kind, LocalText, QuestionId, Slug};
use super::parse::{DefinitionError, RawDefinition, RawPage, RawQuestion};
use crate::db::schema::questionnaire_drafts as qd;
use crate::db::{AnyConnection, DbError};

#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub slug: Slug,
    /// Always in pages.
    pub raw: RawDefinition,
    /// The version it was started from, if any.
    pub based_on: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    #[error("there is no page {0:?}")]
    NoSuchPage(String),
    #[error("there is no question {0:?}")]
    NoSuchQuestion(String),
    #[error("the id {0:?} is already used in this questionnaire")]
    DuplicateId(String),
    #[error("the id {0:?} must be lower-case letters, digits and _ (at most 64), starting with a letter")]
    InvalidId(String),
    #[error("a questionnaire has at most 100 pages and 500 questions")]
    TooBig,
}

fn text(nl: &str, en: &str) -> LocalText {
    LocalText { nl: nl.into(), en: en.into() }
}

/// A new question of a type with every field the type needs filled in,
/// so that the designer starts from something valid.
pub fn blank_question(id: &str, kind: &str) -> RawQuestion {
    let mut q = RawQuestion::new(id, kind, text("Nieuwe vraag", "New question"));
    let option = |v: &str, nl: &str, en: &str| super::parse::RawChoice { value: v.into(), label: text(nl, en) };
    match kind {
        "scale" => {
            q.min = Some(0);
            q.max = Some(10);
            q.min_label = Some(text("Helemaal niet", "Not at all"));
            q.max_label = Some(text("Helemaal wel", "Completely"));
        }
        "single_choice" | "multiple_choice" => {
            q.options = Some(vec![option("een", "Eén", "One"), option("twee", "Twee", "Two")]);
        }
        "number" => {
            q.min = Some(0);
            q.max = Some(100);
        }
        "statement" => q.text = text("Een korte uitleg.", "A short explanation."),
        "consent" => q.text = text("Ik ga akkoord.", "I agree."),
        _ => {}
    }
    q
}

impl Draft {
    /// A new questionnaire with one page holding one question.
    pub fn new(slug: Slug, kind: Kind, title: LocalText) -> Draft {
        let purpose = (kind == Kind::Identified).then(|| {
            text(
                "Waarom we dit vragen, wie de antwoorden leest en hoe lang we ze bewaren.",
                "Why we ask, who reads the answers and how long we keep them.",
            )
        });
        Draft {
            raw: RawDefinition {
                slug: slug.to_string(),
                kind,
                title,
                intro: None,
                purpose,
                invitation_only: None,
                retention_months: None,
                questions: None,
                pages: Some(vec![RawPage {
                    id: "pagina_1".into(),
                    title: None,
                    show_if: None,
                    questions: vec![blank_question("vraag_1", "scale")],
                }]),
            },
            slug,
            based_on: None,
        }
    }

    /// A draft of the next version of a published definition.
    pub fn from_definition(def: &Definition, based_on: Option<i32>) -> Draft {
        Draft { slug: def.slug.clone(), raw: def.to_raw(), based_on }
    }

    /// A copy under a new slug: a new questionnaire of its own.
    pub fn cloned_as(&self, slug: Slug) -> Draft {
        let mut raw = self.raw.clone();
        raw.slug = slug.to_string();
        Draft { slug, raw, based_on: None }
    }

    /// The whole check of publishing: the questionnaire, or its first problem.
    pub fn check(&self) -> Result<Definition, DefinitionError> {
        self.raw.clone().check(self.slug.as_str())
    }

    pub fn pages(&self) -> &[RawPage] {
        self.raw.pages.as_deref().unwrap_or(&[])
    }

    fn pages_mut(&mut self) -> &mut Vec<RawPage> {
        // Drafts are always kept in pages; older single-page files are moved.
        if let Some(questions) = self.raw.questions.take() {
            self.raw.pages = Some(vec![RawPage { id: "vragen".into(), title: None, show_if: None, questions }]);
        }
        self.raw.pages.get_or_insert_with(Vec::new)
    }

    fn ids_in_use(&self) -> impl Iterator<Item = &str> {
        self.pages()
            .iter()
            .flat_map(|p| std::iter::once(p.id.as_str()).chain(p.questions.iter().map(|q| q.id.as_str())))
    }

    fn fresh_id(&self, prefix: &str) -> String {
        (1..).map(|n| format!("{prefix}_{n}")).find(|id| !self.ids_in_use().any(|u| u == id)).unwrap_or_default()
    }

    fn page_index(&self, id: &str) -> Result<usize, DraftError> {
        self.pages().iter().position(|p| p.id == id).ok_or_else(|| DraftError::NoSuchPage(id.into()))
    }

    /// (page index, question index) of a question.
    fn locate(&self, id: &str) -> Result<(usize, usize), DraftError> {
        self.pages()
            .iter()
            .enumerate()
            .find_map(|(p, page)| page.questions.iter().position(|q| q.id == id).map(|q| (p, q)))
            .ok_or_else(|| DraftError::NoSuchQuestion(id.into()))
    }

    pub fn question(&self, id: &str) -> Option<&RawQuestion> {
        self.locate(id).ok().map(|(p, q)| &self.pages()[p].questions[q])
    }

    fn count_questions(&self) -> usize {
        self.pages().iter().map(|p| p.questions.len()).sum()
    }

    /// Adds a page with one new question at the end; returns the page id.
    pub fn add_page(&mut self) -> Result<String, DraftError> {
        if self.pages().len() >= 100 || self.count_questions() >= 500 {
            return Err(DraftError::TooBig);
        }
        let id = self.fresh_id("pagina");
        let qid = self.fresh_id("vraag");
        self.pages_mut().push(RawPage {
            id: id.clone(),
            title: None,
            show_if: None,
            questions: vec![blank_question(&qid, "scale")],
        });
        Ok(id)
    }

    /// Adds a question of a type at the end of a page; returns its id.
    pub fn add_question(&mut self, page: &str, kind: &str) -> Result<String, DraftError> {
        if self.count_questions() >= 500 {
            return Err(DraftError::TooBig);
        }
        let p = self.page_index(page)?;
        let id = self.fresh_id("vraag");
        self.pages_mut()[p].questions.push(blank_question(&id, kind));
        Ok(id)
    }

    pub fn move_page(&mut self, id: &str, up: bool) -> Result<(), DraftError> {
        let i = self.page_index(id)?;
        let pages = self.pages_mut();
        let j = if up { i.checked_sub(1) } else { (i + 1 < pages.len()).then_some(i + 1) };
        if let Some(j) = j {
            pages.swap(i, j);
        }
        Ok(())
    }

    /// Moves a question one place; at the edge of its page it moves to the
    /// end of the page before or the start of the page after.
    pub fn move_question(&mut self, id: &str, up: bool) -> Result<(), DraftError> {
        let (p, q) = self.locate(id)?;
        let pages = self.pages_mut();
        let len = pages[p].questions.len();
        match (up, q) {
            (true, 0) if p > 0 => {
                let moved = pages[p].questions.remove(0);
                pages[p - 1].questions.push(moved);
            }
            (true, 0) => {}
            (true, q) => pages[p].questions.swap(q, q - 1),
            (false, q) if q + 1 < len => pages[p].questions.swap(q, q + 1),
            (false, _) if p + 1 < pages.len() => {
                let moved = pages[p].questions.remove(q);
                pages[p + 1].questions.insert(0, moved);
            }
            (false, _) => {}
        }
        Ok(())
    }

    pub fn remove_page(&mut self, id: &str) -> Result<(), DraftError> {
        let i = self.page_index(id)?;
        self.pages_mut().remove(i);
        Ok(())
    }

    pub fn remove_question(&mut self, id: &str) -> Result<(), DraftError> {
        let (p, q) = self.locate(id)?;
        self.pages_mut()[p].questions.remove(q);
        Ok(())
    }

    fn check_new_id(&self, old: &str, new: &str) -> Result<(), DraftError> {
        if QuestionId::parse(new).is_none() {
            return Err(DraftError::InvalidId(new.chars().take(64).collect()));
        }
        if new != old && self.ids_in_use().any(|u| u == new) {
            return Err(DraftError::DuplicateId(new.into()));
        }
        Ok(())
    }

    /// Replaces a page's settings (its questions stay).
    pub fn set_page(
        &mut self,
        id: &str,
        new_id: &str,
        title: Option<LocalText>,
        show_if: Option<String>,
    ) -> Result<(), DraftError> {
        let i = self.page_index(id)?;
        self.check_new_id(id, new_id)?;
        let page = &mut self.pages_mut()[i];
        page.id = new_id.into();
        page.title = title;
        page.show_if = show_if;
        Ok(())
    }

    /// Replaces a question (its id may change).
    pub fn set_question(&mut self, id: &str, question: RawQuestion) -> Result<(), DraftError> {
        let (p, q) = self.locate(id)?;
        self.check_new_id(id, &question.id)?;
        self.pages_mut()[p].questions[q] = question;
        Ok(())
    }

    /// The draft as a questionnaire file.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(&self.raw).unwrap_or_default()
    }
}

/// The draft of a slug, if one is being worked on. A stored draft that no
/// longer reads (hand-edited in the database) counts as none.
pub fn load_draft(conn: &mut AnyConnection, slug: &Slug) -> Result<Option<Draft>, DbError> {
    let row: Option<(String, Option<i32>)> =
        qd::table.find(slug.as_str()).select((qd::definition, qd::based_on_version)).first(conn).optional()?;
    Ok(row.and_then(|(json, based_on)| {
        let raw: RawDefinition = serde_json::from_str(&json).ok()?;
        Some(Draft { slug: slug.clone(), raw, based_on })
    }))
}

/// Every slug with a draft.
pub fn draft_slugs(conn: &mut AnyConnection) -> Result<Vec<String>, DbError> {
    Ok(qd::table.select(qd::slug).order(qd::slug.asc()).load(conn)?)
}

pub fn save_draft(conn: &mut AnyConnection, draft: &Draft, today: NaiveDate) -> Result<(), DbError> {
    let json = serde_json::to_string(&draft.raw).unwrap_or_default();
    conn.transaction(|conn| {
        diesel::delete(qd::table.find(draft.slug.as_str())).execute(conn)?;
        diesel::insert_into(qd::table)
            .values((
                qd::slug.eq(draft.slug.as_str()),
                qd::definition.eq(json),
                qd::based_on_version.eq(draft.based_on),
                qd::updated_on.eq(today),
            ))
            .execute(conn)?;
        Ok(())
    })
}

pub fn delete_draft(conn: &mut AnyConnection, slug: &Slug) -> Result<(), DbError> {
    diesel::delete(qd::table.find(slug.as_str())).execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questionnaire::QuestionKind;

    fn draft() -> Draft {
        Draft::new(Slug::parse("nieuw").unwrap(), Kind::Anonymous, text("Nieuw", "New"))
    }

    #[test]
    fn a_new_draft_is_valid_and_every_blank_type_too() {
        let mut d = draft();
        assert!(d.check().is_ok());
        for kind in QuestionKind::TYPE_NAMES {
            d.add_question("pagina_1", kind).unwrap();
        }
        let def = d.check().unwrap();
        assert_eq!(def.questions().count(), 10);
        let identified = Draft::new(Slug::parse("x").unwrap(), Kind::Identified, text("X", "X"));
        assert!(identified.check().is_ok(), "a purpose is filled in");
    }

    #[test]
    fn pages_and_questions_move_and_ids_stay_unique() {
        let mut d = draft();
        let p2 = d.add_page().unwrap();
        assert_eq!(p2, "pagina_2");
        assert_eq!(d.pages()[1].questions[0].id, "vraag_2");
        // Up from the top of page 2 lands at the end of page 1.
        d.move_question("vraag_2", true).unwrap();
        assert_eq!(d.pages()[0].questions.len(), 2);
        assert!(d.pages()[1].questions.is_empty());
        assert!(d.check().unwrap_err().to_string().contains("has no questions"));
        d.move_question("vraag_2", false).unwrap();
        d.move_question("vraag_2", false).unwrap();
        assert_eq!(d.pages()[1].questions[0].id, "vraag_2");
        d.move_page("pagina_2", true).unwrap();
        assert_eq!(d.pages()[0].id, "pagina_2");
        let mut q = d.question("vraag_1").unwrap().clone();
        q.id = "vraag_2".into();
        assert_eq!(d.set_question("vraag_1", q.clone()), Err(DraftError::DuplicateId("vraag_2".into())));
        q.id = "Vraag 2!".into();
        assert!(matches!(d.set_question("vraag_1", q), Err(DraftError::InvalidId(_))));
        assert_eq!(d.remove_question("nope"), Err(DraftError::NoSuchQuestion("nope".into())));
        d.remove_page("pagina_2").unwrap();
        assert_eq!(d.pages().len(), 1);
    }

    #[test]
    fn the_toml_export_reads_back_as_the_same_questionnaire() {
        let mut d = draft();
        d.add_question("pagina_1", "multiple_choice").unwrap();
        let def = d.check().unwrap();
        let again = super::super::parse_toml("nieuw.toml", &d.to_toml()).unwrap();
        assert_eq!(def, again);
    }
}
