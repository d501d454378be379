//! GitLab's offset pagination: `page`/`per_page`, the `x-*` headers and `Link`.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

use crate::rest::{ApiError, Params};

/// GitLab's default page size.
pub(crate) const DEFAULT_PER_PAGE: u64 = 20;
/// GitLab's maximum page size; larger requests are clamped.
pub(crate) const MAX_PER_PAGE: u64 = 100;
/// Above this many records GitLab stops counting (no `x-total`, `x-total-pages`, `rel="last"`).
pub(crate) const COUNT_LIMIT: usize = 10_000;

/// A requested page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageRequest {
    pub page: u64,
    pub per_page: u64,
}

impl PageRequest {
    pub fn from_params(params: &Params) -> Result<PageRequest, ApiError> {
        let page = params.int("page")?.unwrap_or(1).max(1);
        let per_page = match params.int("per_page")? {
            Some(n) if n > 0 => (n as u64).min(MAX_PER_PAGE),
            _ => DEFAULT_PER_PAGE,
        };
        Ok(PageRequest {
            page: page as u64,
            per_page,
        })
    }

    pub fn offset(&self) -> usize {
        usize::try_from((self.page - 1).saturating_mul(self.per_page)).unwrap_or(usize::MAX)
    }
}

/// Whether the collection is a database relation (counted only up to [`COUNT_LIMIT`]) or an
/// in-memory array such as registry tags (always counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counting {
    Relation,
    Array,
}

/// Cuts one page out of `items` and builds GitLab's pagination headers for it.
pub(crate) fn paginate<T: Clone>(
    items: &[T],
    request: PageRequest,
    counting: Counting,
    url_base: &str,
    params: &Params,
) -> (Vec<T>, HeaderMap) {
    let total = items.len();
    let start = request.offset().min(total);
    let end = start
        .saturating_add(usize::try_from(request.per_page).unwrap_or(usize::MAX))
        .min(total);
    let page_items = items[start..end].to_vec();
    let total_pages = if total == 0 {
        1
    } else {
        (total as u64).div_ceil(request.per_page)
    };
    let counted = counting == Counting::Array || total <= COUNT_LIMIT;
    let out_of_range = request.page > total_pages;
    let next = (!out_of_range && request.page < total_pages).then_some(request.page + 1);
    let prev = (request.page > 1 && !out_of_range).then_some(request.page - 1);

    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    put("x-page", request.page.to_string());
    put("x-per-page", request.per_page.to_string());
    put(
        "x-next-page",
        next.map(|n| n.to_string()).unwrap_or_default(),
    );
    put(
        "x-prev-page",
        prev.map(|n| n.to_string()).unwrap_or_default(),
    );
    if counted {
        put("x-total", total.to_string());
        put("x-total-pages", total_pages.to_string());
    }
    let mut links = Vec::new();
    if let Some(p) = prev {
        links.push(link(url_base, params, p, request.per_page, "prev"));
    }
    if let Some(n) = next {
        links.push(link(url_base, params, n, request.per_page, "next"));
    }
    links.push(link(url_base, params, 1, request.per_page, "first"));
    if counted {
        links.push(link(
            url_base,
            params,
            total_pages,
            request.per_page,
            "last",
        ));
    }
    put("link", links.join(", "));
    (page_items, headers)
}

/// One `Link` entry; parameters sorted by name like Rails' `to_query`.
fn link(url_base: &str, params: &Params, page: u64, per_page: u64, rel: &str) -> String {
    let mut pairs: Vec<(String, String)> = params
        .0
        .iter()
        .filter(|(k, _)| k != "page" && k != "per_page" && k != "access_token")
        .cloned()
        .collect();
    pairs.push(("page".to_owned(), page.to_string()));
    pairs.push(("per_page".to_owned(), per_page.to_string()));
    format!("<{}>; rel=\"{rel}\"", url_with_query(url_base, pairs))
}

/// `url_base?sorted&query`.
pub(crate) fn url_with_query(url_base: &str, mut pairs: Vec<(String, String)>) -> String {
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        query.append_pair(k, v);
    }
    format!("{url_base}?{}", query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(h: &HeaderMap, name: &str) -> String {
        h.get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_else(|| "<absent>".to_owned())
    }

    #[test]
    fn middle_page_has_all_links() {
        let items: Vec<u32> = (0..45).collect();
        let params = Params(vec![
            ("per_page".into(), "20".into()),
            ("page".into(), "2".into()),
        ]);
        let req = PageRequest::from_params(&params).unwrap();
        let (page, h) = paginate(
            &items,
            req,
            Counting::Relation,
            "http://h/api/v4/x",
            &params,
        );
        assert_eq!(page.len(), 20);
        assert_eq!(page[0], 20);
        assert_eq!(header(&h, "x-total"), "45");
        assert_eq!(header(&h, "x-total-pages"), "3");
        assert_eq!(header(&h, "x-next-page"), "3");
        assert_eq!(header(&h, "x-prev-page"), "1");
        let link = header(&h, "link");
        assert!(link.contains("<http://h/api/v4/x?page=1&per_page=20>; rel=\"prev\""));
        assert!(link.contains("rel=\"next\""));
        assert!(link.contains("<http://h/api/v4/x?page=3&per_page=20>; rel=\"last\""));
    }

    #[test]
    fn clamps_and_omits_totals_above_the_count_limit() {
        let items: Vec<u32> = (0..10_001).collect();
        let params = Params(vec![("per_page".into(), "500".into())]);
        let req = PageRequest::from_params(&params).unwrap();
        assert_eq!(req.per_page, 100);
        let (_, h) = paginate(&items, req, Counting::Relation, "http://h/x", &params);
        assert_eq!(header(&h, "x-total"), "<absent>");
        assert!(!header(&h, "link").contains("rel=\"last\""));
        let (_, h) = paginate(&items, req, Counting::Array, "http://h/x", &params);
        assert_eq!(header(&h, "x-total"), "10001");
        assert_eq!(header(&h, "x-prev-page"), "");
    }
}
