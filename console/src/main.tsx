// Entry point: mounts the app and registers the service worker (the crew's phone installs the
// console as an app and opens it without a network round-trip for the shell).
import { render } from 'preact'
import { App } from './App.tsx'
import './style.css'
// Before the first render: the chosen light or dark theme applies from the sign-in page on.
import './lib/theme.ts'

const root = document.getElementById('app')
if (root) render(<App />, root)

if ('serviceWorker' in navigator) {
  void navigator.serviceWorker.register('/console/sw.js', { scope: '/console/' }).catch(() => undefined)
}
