/**
 * The operator command-line tool: each command is one request to the operator API of a
 * running service. It never opens the database, because the embedded PGlite database admits
 * one process only, and that process is the service.
 */
import { parseArgs } from "node:util";

const DEFAULT_URL = "http://127.0.0.1:3000";
const REQUEST_TIMEOUT_MS = 10_000;

/** Exit statuses, listed in the help text. */
const EXIT = { ok: 0, rejected: 1, usage: 2, unreachable: 3 } as const;

interface ApiCall {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  body?: unknown;
  /** Printed on a 204 response, which has no body to print. */
  done?: string;
}

interface Command {
  arguments: string[];
  summary: string;
  call(args: string[]): ApiCall | Promise<ApiCall>;
}

const segment = encodeURIComponent;

const COMMANDS: Record<string, Command> = {
  "user:create": {
    arguments: ["email"],
    summary: "create a user (also while REGISTRATION=closed); the password is read from standard input",
    async call([email]) {
      const password = await readPassword(`Password for ${email}: `);
      return { method: "POST", path: "/v1/admin/users", body: { email, password } };
    },
  },
  "user:mfa-reset": {
    arguments: ["userId"],
    summary: "turn MFA off, revoke trusted devices and sessions, and mail the user",
    call: ([userId]) => ({
      method: "POST",
      path: `/v1/admin/users/${segment(userId!)}/mfa-reset`,
      done: `MFA reset for user ${userId}: trusted devices and sessions revoked, user mailed.`,
    }),
  },
  "user:revoke-sessions": {
    arguments: ["userId"],
    summary: "revoke every session of a user",
    call: ([userId]) => ({
      method: "DELETE",
      path: `/v1/admin/users/${segment(userId!)}/sessions`,
      done: `Every session of user ${userId} revoked.`,
    }),
  },
  "pause:lift": {
    arguments: ["email"],
    summary: "end the sign-in pause of an address and clear its failure count",
    call: ([email]) => ({
      method: "DELETE",
      path: `/v1/admin/sign-in-pauses/${segment(email!)}`,
      done: `Sign-in for ${email} is no longer paused.`,
    }),
  },
  "org:create": {
    arguments: ["name"],
    summary: "create an organization, which does not enforce MFA yet",
    call: ([name]) => ({ method: "POST", path: "/v1/admin/organizations", body: { name } }),
  },
  "org:show": {
    arguments: ["organizationId"],
    summary: "show an organization and its member count",
    call: ([id]) => ({ method: "GET", path: `/v1/admin/organizations/${segment(id!)}` }),
  },
  "org:enforce": {
    arguments: ["organizationId"],
    summary: "require a code of every member at sign-in; ends members' password-only sessions",
    call: ([id]) => ({ method: "PATCH", path: `/v1/admin/organizations/${segment(id!)}`, body: { mfaEnforced: true } }),
  },
  "org:unenforce": {
    arguments: ["organizationId"],
    summary: "stop requiring a code of members; each member's own MFA setting applies again",
    call: ([id]) => ({ method: "PATCH", path: `/v1/admin/organizations/${segment(id!)}`, body: { mfaEnforced: false } }),
  },
  "org:add-member": {
    arguments: ["organizationId", "userId"],
    summary: "add a user to an organization (a user belongs to at most one)",
    call: ([id, userId]) => ({
      method: "PUT",
      path: `/v1/admin/organizations/${segment(id!)}/members/${segment(userId!)}`,
      done: `User ${userId} is a member of organization ${id}.`,
    }),
  },
  "org:remove-member": {
    arguments: ["organizationId", "userId"],
    summary: "remove a member from an organization",
    call: ([id, userId]) => ({
      method: "DELETE",
      path: `/v1/admin/organizations/${segment(id!)}/members/${segment(userId!)}`,
      done: `User ${userId} removed from organization ${id}.`,
    }),
  },
};

function helpText(): string {
  const commands = Object.entries(COMMANDS).map(
    ([name, command]) => `  ${usageOf(name, command)}\n      ${command.summary}`,
  );
  return `Usage: npm run -s admin -- <command> [arguments] [--url <url>]

Sends one request to the operator API of a running service and prints the result.

Commands:
${commands.join("\n")}

Options:
  --url <url>   base URL of the service (default: ADMIN_URL, else ${DEFAULT_URL})
  -h, --help    print this help

Environment:
  ADMIN_TOKEN   the service's operator token (required; never passed as an argument, so that
                it does not show in the process list)
  ADMIN_URL     base URL of the service when --url is not given

Exit status:
  ${EXIT.ok}  the service carried out the request
  ${EXIT.rejected}  the service rejected the request; its error code and message are printed
  ${EXIT.usage}  invalid usage, or ADMIN_TOKEN is missing
  ${EXIT.unreachable}  the service could not be reached, or did not answer within ${REQUEST_TIMEOUT_MS / 1000} s
`;
}

function usageOf(name: string, command: Command): string {
  return [name, ...command.arguments.map((argument) => `<${argument}>`)].join(" ");
}

class UsageError extends Error {}

/**
 * Reads a password: from the terminal without echo, or else the first line of standard
 * input, so that it never appears in the shell history or the process list.
 */
async function readPassword(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "";
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  let password = "";
  try {
    for await (const chunk of stdin) {
      for (const character of chunk as string) {
        if (character === "\u0003") throw new UsageError("Cancelled.");
        if (character === "\r" || character === "\n") return password;
        if (character === "\u007f" || character === "\b") password = password.slice(0, -1);
        else password += character;
      }
    }
    return password;
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write("\n");
  }
}

function baseUrl(option: string | undefined): URL {
  const value = option ?? process.env.ADMIN_URL ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`Invalid service URL "${value}": expected an address such as ${DEFAULT_URL}.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`Invalid service URL "${value}": expected http:// or https://.`);
  }
  return url;
}

/** Sends the call and prints its result; returns the exit status. */
async function send(base: URL, token: string, call: ApiCall): Promise<number> {
  const url = new URL(call.path, base);
  let response: Response;
  try {
    response = await fetch(url, {
      method: call.method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(call.body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const reason =
      (error as Error).name === "TimeoutError"
        ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
        : String((error as { cause?: Error }).cause?.message ?? (error as Error).message);
    console.error(`error: could not reach the service at ${base.origin}: ${reason}. Is it running? Set --url or ADMIN_URL.`);
    return EXIT.unreachable;
  }

  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {}

  if (response.ok) {
    if (response.status === 204 || body === null) console.log(call.done ?? "Done.");
    else console.log(JSON.stringify(body, null, 2));
    return EXIT.ok;
  }
  printRejection(response.status, body, text);
  return EXIT.rejected;
}

function printRejection(status: number, body: unknown, text: string): void {
  const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
  if (!error?.code) {
    console.error(`error: the service responded ${status} without an error body: ${text.slice(0, 200)}`);
    return;
  }
  const { code, message, ...extra } = error as Record<string, unknown>;
  const details = Object.keys(extra).length ? ` ${JSON.stringify(extra)}` : "";
  console.error(`error: ${status} ${code}: ${message}${details}`);
  if (status === 401) console.error("hint: ADMIN_TOKEN does not match the service's ADMIN_TOKEN.");
  if (status === 404 && message === "Not found.") {
    console.error("hint: a service without ADMIN_TOKEN configured responds 404 to every operator request.");
  }
}

/** Runs one command line; returns the exit status. */
async function main(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { url: { type: "string" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
    const [name, ...args] = positionals;
    if (values.help || !name) {
      (values.help ? console.log : console.error)(helpText());
      return values.help ? EXIT.ok : EXIT.usage;
    }
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`Unknown command "${name}". Run with --help for the list of commands.`);
    if (args.length !== command.arguments.length) {
      throw new UsageError(`Usage: ${usageOf(name, command)}`);
    }
    const base = baseUrl(values.url);
    const token = process.env.ADMIN_TOKEN;
    if (!token) throw new UsageError("ADMIN_TOKEN is not set: export the service's operator token first.");

    return await send(base, token, await command.call(args));
  } catch (error) {
    // parseArgs throws TypeErrors with a `code` such as ERR_PARSE_ARGS_UNKNOWN_OPTION.
    const isParseError = String((error as { code?: unknown }).code ?? "").startsWith("ERR_PARSE_ARGS");
    if (!(error instanceof UsageError) && !isParseError) throw error;
    console.error(`error: ${(error as Error).message}`);
    return EXIT.usage;
  }
}

process.exitCode = await main(process.argv.slice(2));
