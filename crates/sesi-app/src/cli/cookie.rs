//! `sesi cookie decode` and `sesi cookie encode`.

use std::process::ExitCode;

use clap::Args;

/// `sesi cookie decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {}

/// `sesi cookie encode`.
#[derive(Debug, Args)]
pub struct EncodeArgs {}

pub(super) fn decode(_args: &DecodeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet available")
}

pub(super) fn encode(_args: &EncodeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet available")
}
