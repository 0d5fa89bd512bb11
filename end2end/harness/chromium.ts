// Debian's Chromium (apt), never a downloaded browser. The flags keep it off the
// network: this machine's closed network refuses Chromium's background calls.
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
