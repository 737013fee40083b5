//! What one round trip to Redis sends: a command, or a pipeline of them.

use redis::{Cmd, FromRedisValue, Pipeline, RedisResult};

/// One command or a pipeline: what a round trip sends.
#[derive(Clone, Copy)]
pub(crate) enum Request<'a> {
    One(&'a Cmd),
    Pipe(&'a Pipeline),
}

impl Request<'_> {
    pub(crate) async fn run<T: FromRedisValue>(
        self,
        conn: &mut (impl redis::aio::ConnectionLike + Send),
    ) -> RedisResult<T> {
        match self {
            Request::One(cmd) => cmd.query_async(conn).await,
            Request::Pipe(pipe) => pipe.query_async(conn).await,
        }
    }
}
