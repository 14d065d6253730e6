/** The login model's paths, replayed against the HTTP API over `app.request()` and over a socket. */
import { describeModelReplay } from "./suite.js";

describeModelReplay("login", { sampleSize: 30 });
