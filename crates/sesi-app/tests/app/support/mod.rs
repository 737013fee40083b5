//! What the tests stand on, one module per role.

pub mod cookie;
pub mod html;
pub mod http;
pub mod process;
pub mod server;
