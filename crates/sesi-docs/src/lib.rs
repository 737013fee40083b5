//! The Rust code blocks of the repository's README, the crates' READMEs and `docs/*.md`, compiled
//! (and run, unless marked `no_run`) as doctests of this crate, so the documentation cannot drift
//! from the API. A crate of its own and never published, so that no published package reads a
//! file outside its own directory.

#[cfg(doctest)]
mod repository_docs {
    #[doc = include_str!("../../../README.md")]
    struct Readme;
    #[doc = include_str!("../../sesi/README.md")]
    struct SesiReadme;
    #[doc = include_str!("../../sesi-core/README.md")]
    struct SesiCoreReadme;
    #[doc = include_str!("../../sesi-redis/README.md")]
    struct SesiRedisReadme;
    #[doc = include_str!("../../sesi-sql/README.md")]
    struct SesiSqlReadme;
    #[doc = include_str!("../../sesi-app/README.md")]
    struct SesiAppReadme;
    #[doc = include_str!("../../../docs/architecture.md")]
    struct Architecture;
    #[doc = include_str!("../../../docs/configuration.md")]
    struct Configuration;
    #[doc = include_str!("../../../docs/cookie-format.md")]
    struct CookieFormat;
    #[doc = include_str!("../../../docs/migrating-from-pyramid.md")]
    struct MigratingFromPyramid;
    #[doc = include_str!("../../../docs/migrating-from-flask.md")]
    struct MigratingFromFlask;
    #[doc = include_str!("../../../docs/migrating-from-django.md")]
    struct MigratingFromDjango;
    #[doc = include_str!("../../../docs/security.md")]
    struct Security;
    #[doc = include_str!("../../../docs/stores.md")]
    struct Stores;
    #[doc = include_str!("../../../docs/benchmarks.md")]
    struct Benchmarks;
}
