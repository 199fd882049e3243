//! simin's web portal: a block explorer and a document check, embedded in the binary.
//!
//! The assets are plain HTML, CSS and JavaScript modules with no build step and nothing
//! loaded from elsewhere (nodes may run offline). The page is a single document whose
//! views are chosen by the URL fragment (`#/block/5`), so the server only serves files.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// One embedded file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Asset {
    /// The file's name under `/portal/` (or `index.html`, served at `/`).
    pub name: &'static str,
    /// Its media type.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static str,
}

/// Every file of the portal.
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../assets/index.html"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../assets/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/app.js"),
    },
    Asset {
        name: "api.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/api.js"),
    },
    Asset {
        name: "views.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/views.js"),
    },
    Asset {
        name: "data.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/data.js"),
    },
    Asset {
        name: "i18n.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/i18n.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_str!("../assets/favicon.svg"),
    },
];

/// The content security policy of every portal response: only this origin, no inline
/// scripts, no framing.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Finds an embedded file by name.
pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// Routes `/` (the page) and `/portal/{file}` (its assets), for any router state.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { serve_asset("index.html") }))
        .route(
            "/portal/{file}",
            get(|Path(file): Path<String>| async move { serve_asset(&file) }),
        )
}

fn serve_asset(name: &str) -> Response {
    let Some(asset) = asset(name) else {
        return (StatusCode::NOT_FOUND, "no such portal file\n").into_response();
    };
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        // Assets change with the binary, not with a version in their names: revalidate.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    (headers, asset.body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get(path: &str) -> Response {
        router::<()>()
            .oneshot(
                Request::get(path)
                    .body(Body::empty())
                    .expect("a valid request because the path is static"),
            )
            .await
            .expect("the router is infallible because axum routers are")
    }

    #[tokio::test]
    async fn serves_the_page_and_its_assets_with_types() {
        let page = get("/").await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(
            page.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert!(page.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        let script = get("/portal/app.js").await;
        assert_eq!(
            script.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            get("/portal/missing.js").await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get("/portal/..%2FCargo.toml").await.status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn every_module_the_page_imports_is_embedded() {
        for asset in ASSETS
            .iter()
            .filter(|a| a.name.ends_with(".js") || a.name == "index.html")
        {
            for (index, _) in asset.body.match_indices("./") {
                let rest = &asset.body[index + 2..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
                    .collect();
                if name.ends_with(".js") || name.ends_with(".css") {
                    assert!(
                        super::asset(&name).is_some(),
                        "{} refers to {name}, which is not embedded",
                        asset.name
                    );
                }
            }
        }
    }
}
