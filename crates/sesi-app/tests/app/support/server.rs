//! The app served in-process on 127.0.0.1: the quick way to test it over real HTTP.

use sesi_app::Settings;

use super::cookie::secrets;
use super::http::Visitor;

/// Settings for an in-process server signed with [`super::cookie::SECRET`].
pub fn settings() -> Settings {
    Settings::new(secrets())
}

/// An app served in-process on 127.0.0.1 (random port) until dropped.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// The app with [`settings`].
    pub async fn start() -> Self {
        Self::with_settings(settings()).await
    }

    /// The app with any settings.
    pub async fn with_settings(settings: Settings) -> Self {
        let app = sesi_app::app(&settings).expect("test settings are valid");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("bound address");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("server runs");
        });
        TestServer {
            base: format!("http://{addr}"),
            task,
        }
    }

    /// A new visitor (empty cookie jar) of this server.
    pub fn visitor(&self) -> Visitor {
        Visitor::new(&self.base)
    }

    /// A client without a cookie jar: every cookie is given by hand.
    pub fn manual(&self) -> Visitor {
        Visitor::manual(&self.base)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
