//! Browsing the audit log.

use app::types::ApiErrorBody;
use app::types::{AuditEntry, AuditPage};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, stream};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{ApiError, Json, Query};
use crate::http::extract::AdminUser;
use crate::http::state::AppState;
use crate::storage::{AuditFilter, Store};

/// The filters of a listing or an export: at most 100 characters of one line
/// each; blank ones are no filter.
fn filters(
    action: Option<String>,
    q: Option<String>,
) -> Result<(Option<String>, Option<String>), ApiError> {
    for text in [&action, &q].into_iter().flatten() {
        if text.chars().count() > 100 {
            return Err(ApiError::invalid_input(
                "Filters are at most 100 characters.",
            ));
        }
        crate::validate::line_text("A filter", text)?;
    }
    let nonempty = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    Ok((nonempty(action), nonempty(q)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    before: Option<i64>,
    action: Option<String>,
    q: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/v1/admin/audit?action=&q=&before=&limit=` — administrators. Newest
/// first; `action` matches a prefix (`sign_in.`, `user.create`), `q` searches
/// actor, target, detail and address; `before` pages back.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit",
    params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid_input("limit is from 1 to 200."));
    }
    let (action, text) = filters(query.action, query.q)?;
    let items = state
        .store
        .list_audit(&AuditFilter {
            before: query.before,
            action,
            text,
            limit,
        })
        .await?;
    let next_before = if items.len() as i64 == limit {
        items.last().map(|e| e.id)
    } else {
        None
    };
    Ok(Json(AuditPage { items, next_before }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    action: Option<String>,
    q: Option<String>,
}

/// The most lines one export holds (the newest).
const MAX_EXPORT_LINES: i64 = 100_000;

/// Lines read from the database at a time while an export streams.
const EXPORT_BATCH: i64 = 1_000;

/// `GET /api/v1/admin/audit.csv?action=&q=` — administrators. The lines the
/// same filters show, newest first, as CSV (RFC 4180) for a spreadsheet: UTC
/// time (RFC 3339), who, the action and its readable name, target, detail and
/// address; at most 100,000 lines. The export itself is audited.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit.csv",
    params(ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", description = "Refused: the body names the reason (`error.code`)", body = ApiErrorBody)),
    tag = "admin",
    extensions(("x-causeway-access" = json!("admin"))),
)]
pub async fn export(
    State(state): State<AppState>,
    admin: AdminUser,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let (action, text) = filters(query.action, query.q)?;
    let described = [
        action.as_deref().map(|a| format!("action {a}")),
        text.as_deref().map(|t| format!("containing {t}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    state
        .audit
        .record(
            &admin.0.actor(),
            "audit.export",
            None,
            (!described.is_empty()).then_some(described.as_str()),
        )
        .await;
    let header_line = csv_lines(&[], true).map_err(ApiError::internal)?;
    let batches = stream::try_unfold(
        Export {
            store: state.store.clone(),
            filter: AuditFilter {
                before: None,
                action,
                text,
                limit: EXPORT_BATCH,
            },
            left: MAX_EXPORT_LINES,
        },
        next_batch,
    );
    let body = stream::iter([Ok::<_, std::io::Error>(Bytes::from(header_line))]).chain(batches);
    let name = format!(
        "attachment; filename=\"causeway-audit-{}.csv\"",
        crate::time::now_millis() / 1000
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

/// Where an export stream is: the next batch's filter and how many lines may
/// still come.
struct Export {
    store: Store,
    filter: AuditFilter,
    left: i64,
}

async fn next_batch(mut export: Export) -> std::io::Result<Option<(Bytes, Export)>> {
    if export.left <= 0 {
        return Ok(None);
    }
    export.filter.limit = EXPORT_BATCH.min(export.left);
    let items = export
        .store
        .list_audit(&export.filter)
        .await
        .map_err(std::io::Error::other)?;
    let Some(last) = items.last() else {
        return Ok(None);
    };
    export.filter.before = Some(last.id);
    export.left -= items.len() as i64;
    let lines = csv_lines(&items, false).map_err(std::io::Error::other)?;
    Ok(Some((Bytes::from(lines), export)))
}

/// `items` as CSV lines, with the header line first if `header`. A field that
/// a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a
/// tab or a carriage return) gets a `'` in front.
fn csv_lines(items: &[AuditEntry], header: bool) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    if header {
        out.write_record([
            "time_utc",
            "actor",
            "action",
            "action_name",
            "target",
            "detail",
            "address",
        ])?;
    }
    for e in items {
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(e.at) * 1_000_000)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default();
        out.write_record(
            [
                at.as_str(),
                e.actor.as_deref().unwrap_or(""),
                &e.action,
                e.action_name(),
                e.target.as_deref().unwrap_or(""),
                e.detail.as_deref().unwrap_or(""),
                e.address.as_deref().unwrap_or(""),
            ]
            .map(|field| defused(field).into_owned()),
        )?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// A field as a spreadsheet should show it: never a formula.
fn defused(field: &str) -> std::borrow::Cow<'_, str> {
    if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}").into()
    } else {
        field.into()
    }
}
