//! Highlights (issue 22): moderators mark a published case study as a
//! highlight; highlights lead the home page and open the digest.

use qnet_domain::case_study::{CaseStudy, Status};
use qnet_ports::{Condition, Index, Item, Query};
use serde::{Deserialize, Serialize};

use crate::moderation::require_moderator;
use crate::views::{CaseStudyList, CaseStudySummary};
use crate::{App, AppError, AppResult, Claims, decode, keys};

/// Highlights read at most (they are few: moderators choose them).
const HIGHLIGHTS_READ: u32 = 200;

/// A case study marked as a highlight, as stored (`HIGHLIGHTS`, case study id).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Highlight {
    pub case_study_id: String,
    pub highlighted_at: String,
    pub highlighted_by: String,
}

impl App {
    /// `PUT /case-studies/{id}/highlight` (moderators): marks a published case
    /// study as a highlight. Marking it again changes nothing.
    pub async fn highlight_case_study(&self, claims: &Claims, id: &str) -> AppResult<()> {
        require_moderator(claims)?;
        let cs = self.visible_case_study(Some(claims), id).await?;
        if cs.status != Status::Published || cs.hold.is_some() {
            return Err(AppError::Conflict("only a published case study can be a highlight".into()));
        }
        let (pk, sk) = keys::highlight(&cs.id);
        let h = Highlight { case_study_id: cs.id.clone(), highlighted_at: self.now_text(), highlighted_by: claims.sub.clone() };
        match self.records.put(Item::new(pk, sk, crate::encode(&h)), Condition::NotExists).await {
            Ok(()) => {
                tracing::info!(case_study = %cs.id, "case study highlighted");
                Ok(())
            }
            Err(e) if e.is_conflict() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// `DELETE /case-studies/{id}/highlight` (moderators).
    pub async fn unhighlight_case_study(&self, claims: &Claims, id: &str) -> AppResult<()> {
        require_moderator(claims)?;
        let (pk, sk) = keys::highlight(id);
        if self.records.get(&pk, &sk).await?.is_none() {
            return Err(AppError::NotFound("highlight"));
        }
        self.records.delete(&pk, &sk, Condition::None).await?;
        Ok(())
    }

    /// Whether a case study is a highlight.
    pub async fn is_highlight(&self, id: &str) -> AppResult<bool> {
        let (pk, sk) = keys::highlight(id);
        Ok(self.records.get(&pk, &sk).await?.is_some())
    }

    /// The highlights that are still published, most recently highlighted
    /// first, each with when it was highlighted.
    pub async fn highlights_with_dates(&self, limit: usize) -> AppResult<Vec<(CaseStudySummary, String)>> {
        let page = self.records.query(Query::new(Index::Primary, keys::HIGHLIGHTS).limit(HIGHLIGHTS_READ)).await?;
        let mut marks: Vec<Highlight> = page.items.iter().map(decode).collect::<Result<_, _>>()?;
        marks.sort_by(|a, b| b.highlighted_at.cmp(&a.highlighted_at));
        let names = self.organisation_names().await?;
        let mut out = Vec::new();
        for m in marks {
            if out.len() >= limit {
                break;
            }
            let Some((cs, _)) = self.get_record::<CaseStudy>(keys::case_study(&m.case_study_id)).await? else { continue };
            if cs.status != Status::Published || cs.hold.is_some() {
                continue;
            }
            let mut s = CaseStudySummary::public(&cs);
            s.organisation_name = s.organisation_id.as_ref().and_then(|o| names.get(o).cloned());
            out.push((s, m.highlighted_at));
        }
        Ok(out)
    }

    /// `GET /case-studies/highlights`: the highlights, for the home page.
    pub async fn highlights(&self, limit: u32) -> AppResult<CaseStudyList> {
        let limit = crate::listing::page_limit(limit)? as usize;
        let items = self.highlights_with_dates(limit).await?.into_iter().map(|(s, _)| s).collect();
        Ok(CaseStudyList { items, next_cursor: None })
    }
}
