/**
 * The code page that sign-in, enabling and disabling share: where the code went, the code
 * input, "Send a new code" with the time it becomes available, and "Start again".
 */
import type { FlowView } from "../flows/view.js";
import { ButtonForm, ErrorAlert, Field, Notice, Time } from "./layout.js";
import type { Failure } from "./messages.js";

export interface CodeStepProps {
  title: string;
  flow: FlowView;
  /** Targets of the code, "Send a new code" and "Start again" forms. */
  actions: { submit: string; resend: string; restart: string };
  /** The label of the restart button while the flow is active; `Start again` by default. */
  restartLabel?: string;
  /** Days a remembered device skips the code; shows the box only at sign-in. */
  rememberDays?: number;
  failure?: Failure | null;
  notice?: string | null;
  now: Date;
  showMailboxLink: boolean;
}

export function CodeStep(props: CodeStepProps) {
  const { flow, failure, actions } = props;
  const codeFailed = failure?.code === "invalid_code" || failure?.code === "invalid_request";
  return (
    <>
      <h1>{props.title}</h1>
      {failure && (
        <ErrorAlert>
          <p>{failure.message}</p>
        </ErrorAlert>
      )}
      {props.notice && !failure && <Notice>{props.notice}</Notice>}
      {failure?.finished || flow.status !== "active" ? (
        <ButtonForm action={actions.restart} label="Start again" kind="primary" />
      ) : (
        <>
          <p>
            We sent a 6-digit code to <strong>{flow.sentTo ?? "your email address"}</strong>.
            {flow.codeExpiresAt && (
              <>
                {" "}
                It works until <Time iso={flow.codeExpiresAt} style="time" />.
              </>
            )}
          </p>
          <form method="post" action={actions.submit} class="stack">
            <Field
              id="code"
              label="Security code"
              hint="The 6 digits from the email"
              type="text"
              inputmode="numeric"
              autocomplete="one-time-code"
              maxlength={12}
              invalid={codeFailed}
              autofocus={!failure}
            />
            {props.rememberDays !== undefined && (
              <div class="check">
                <input type="checkbox" id="rememberDevice" name="rememberDevice" value="on" />
                <label for="rememberDevice">
                  Remember this device for {props.rememberDays} days
                </label>
              </div>
            )}
            <button type="submit" class="primary">
              Verify
            </button>
          </form>
          <ResendForm flow={flow} action={actions.resend} now={props.now} />
          <ButtonForm action={actions.restart} label={props.restartLabel ?? "Start again"} />
        </>
      )}
      {props.showMailboxLink && (
        <p class="development-hint">
          Development mode: mail goes to the <a href="/dev/mailbox">development mailbox</a>, not to
          a real address.
        </p>
      )}
    </>
  );
}

function ResendForm({ flow, action, now }: { flow: FlowView; action: string; now: Date }) {
  const availableAt = flow.resendAvailableAt;
  const waitSeconds = availableAt
    ? Math.max(0, Math.ceil((Date.parse(availableAt) - now.getTime()) / 1000))
    : 0;
  return (
    <form method="post" action={action} class="resend">
      <p id="resend-hint">
        Did not get it?{" "}
        {availableAt && waitSeconds > 0 ? (
          <>
            You can ask for a new code from <Time iso={availableAt} style="time" />
            <span data-countdown="" />.
          </>
        ) : (
          "You can ask for a new code now."
        )}
      </p>
      <button
        type="submit"
        class="secondary"
        data-wait-seconds={String(waitSeconds)}
        aria-describedby="resend-hint"
      >
        Send a new code
      </button>
    </form>
  );
}
