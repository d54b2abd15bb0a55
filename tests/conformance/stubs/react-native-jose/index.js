// Never loaded under node: solid-auth-fetcher reaches for it on React Native only.
module.exports = {};
