//! `vulnmail ack`: stub replaced below
pub fn record_sent(_s: &mut crate::store::Store) -> anyhow::Result<()> { Ok(()) }
