// The public face of views/: page renderers and the escaping helpers, for the server's routes.
// Imports only view modules; nothing here imports server, oidc or capture code.

export { html, raw, escapeHtml, safeUrl, isSafeHtml, SafeHtml, type HtmlValue } from './html.ts';
export { renderLayout, serviceName, type LayoutProps } from './layout.ts';
export { claimLabels, labelClaims, describeLevel, toAssuranceLevel, type AssuranceLevel } from './claims.ts';
export { renderSignIn, renderFeedback, type SignInProps, type SignInEndpoints, type Feedback } from './sign-in.ts';
export { renderConsent, type ConsentProps } from './consent.ts';
export { renderErrorPage, type ErrorPageProps } from './error.ts';
export {
  renderDemoHome, renderDemoResult, renderDemoError,
  type DemoHomeProps, type DemoResultProps, type DemoErrorProps,
} from './demo.ts';
