// The public face of views/: page renderers, the escaping helpers, the languages and the assets,
// for the server's routes. Imports only view modules; nothing here imports server, oidc or capture code.

export { html, raw, escapeHtml, safeUrl, isSafeHtml, SafeHtml, type HtmlValue } from './html.ts';
export { renderLayout, serviceName, jsonForScript, type LayoutProps } from './layout.ts';
export { assetManifest, assetUrl, buildAssetManifest, staticDir, vendorDir, type Asset } from './assets.ts';
export {
  languages, languageCookie, languageOf, fromAcceptLanguage, isLang, messagesOf, codeMessage, clientMessages, fill,
  type Lang, type Messages, type LanguageContext,
} from './i18n/index.ts';
export { claimLabels, labelClaims, describeLevel, toAssuranceLevel, type AssuranceLevel } from './claims.ts';
export { renderSignIn, renderFeedback, type SignInProps, type SignInEndpoints, type Feedback } from './sign-in.ts';
export { renderConsent, type ConsentProps } from './consent.ts';
export { renderErrorPage, type ErrorPageProps } from './error.ts';
export {
  renderDemoHome, renderDemoResult, renderDemoError,
  type DemoHomeProps, type DemoResultProps, type DemoErrorProps,
} from './demo.ts';
export { renderEnroll, type EnrollProps } from './enroll.ts';
export {
  renderHandoffDesktop, renderHandoffEnter, renderHandoffStart, renderHandoffMessage, renderHandoffDone,
  type HandoffDesktopProps, type HandoffDesktopState, type HandoffStartProps,
} from './handoff.ts';
export { renderProofStart, renderProofDone, renderProofOutbox, type ProofStartProps } from './proof.ts';
export { renderPasskeyStep, type PasskeyStepProps } from './passkey.ts';
export { renderOnboardingStart, renderOnboardingDocument, renderOnboardingCapture, renderOnboardingOutcome } from './onboarding.ts';
