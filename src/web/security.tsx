/**
 * Middleware of every page: security headers with a Content-Security-Policy that allows no
 * inline script or style, `Cache-Control: no-store`, the rejection of form posts sent from
 * another site, and an HTML page in place of the API's JSON for a server failure.
 */
import type { MiddlewareHandler } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../http/app.js";
import { ErrorAlert, renderPage } from "./layout.js";

const pageHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  xFrameOptions: "DENY",
  // Pages link to no other site, so no address of this one needs to leave it.
  referrerPolicy: "no-referrer",
});

/**
 * Hono's CSRF check: a form post passes when `Sec-Fetch-Site` is `same-origin` or `Origin`
 * equals the request's origin. Browsers send both on form posts (Chromium 76, Firefox 90 and
 * Safari 16.4 send `Sec-Fetch-Site`), so this needs no token in the forms. `SameSite=Lax`
 * cookies add a second barrier: a cross-site post carries no session.
 */
const crossSiteCheck = csrf();

const rejectCrossSiteForms: MiddlewareHandler<AppEnv> = async (c, next) => {
  try {
    await crossSiteCheck(c, async () => {});
  } catch (error) {
    if (!(error instanceof HTTPException)) throw error;
    c.get("services").logger.warn(
      { requestId: c.get("requestId"), path: c.req.path },
      "cross-site form post rejected",
    );
    return renderPage(
      c,
      { title: "Form rejected", failed: true, status: 403 },
      <>
        <h1>Form rejected</h1>
        <ErrorAlert>
          <p>This form was sent from another site, so it was not accepted.</p>
        </ErrorAlert>
        <p>
          <a href="/">Go to the start page</a> and submit the form again from there.
        </p>
      </>,
    );
  }
  await next();
};

const noStore: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  c.header("Cache-Control", "no-store");
};

/**
 * Replaces the JSON body of a server failure, which the app's error handler has already
 * logged, with an HTML page of the same status.
 */
const htmlFailures: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  if (!c.error || c.res.status < 500) return;
  const status = c.res.status === 503 ? 503 : 500;
  c.res = renderPage(
    c,
    { title: "Something went wrong", failed: true, status },
    <>
      <h1>Something went wrong</h1>
      <ErrorAlert>
        <p>
          {status === 503
            ? "The service is busy or its database is unreachable. Try again in a moment."
            : "The service could not complete this request. Try again; if it keeps failing, tell your administrator."}
        </p>
      </ErrorAlert>
    </>,
  );
};

/** The middleware of every page route, in order. */
export const pageMiddleware: MiddlewareHandler<AppEnv>[] = [
  pageHeaders,
  noStore,
  htmlFailures,
  rejectCrossSiteForms,
];
