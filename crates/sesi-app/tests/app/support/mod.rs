//! What the tests stand on, one module per role.

pub mod browser;
pub mod cookie;
pub mod html;
pub mod http;
pub mod load;
pub mod net;
pub mod process;
pub mod pyramid;
pub mod python_app;
pub mod redis;
pub mod server;
pub mod skip;
