// Sign-in and first-run forms, used by the sign-in page and by the console's login dialog.
import { post, get, ApiError, problemLine } from "./api.js";
import { clear, h } from "./dom.js";

export const me = () => get("/api/auth/me");
export const logout = () => post("/api/auth/logout");

/** A short, plain explanation of an auth failure for the coach. */
export function authMessage(err, what) {
  if (!(err instanceof ApiError)) return String(err.message || err);
  if (err.status === 401) return "Wrong name or password.";
  if (err.status === 429) {
    const wait = err.retryAfter ? ` Try again in ${err.retryAfter} s.` : "";
    return "Too many failed attempts." + wait;
  }
  if (err.status === 403 && what === "setup") {
    return "Setup is refused: it only works from the laptop running the server " +
      "(localhost) and only while no coach account exists. " + err.detail;
  }
  if (err.status === 422) return [err.detail, ...err.errors.map(problemLine)].join(" · ");
  return err.detail;
}

function field(id, label, attrs) {
  return h("p", { class: "field" }, h("label", { for: id }, label),
           h("input", { id, required: true, ...attrs }));
}

/**
 * Builds a name + password form in `root`; `kind` is "login" or "setup".
 * onSuccess(coach) runs after the server set the session cookie.
 */
export function mountAuthForm(root, kind, onSuccess) {
  const prefix = kind === "setup" ? "setup" : "login";
  const error = h("p", { class: "alert", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary" },
                   kind === "setup" ? "Create account and sign in" : "Sign in");
  const form = h("form", { class: "auth-form", id: `${prefix}-form-el` },
    field(`${prefix}-name`, "Name", { name: "name", autocomplete: "username" }),
    field(`${prefix}-password`, "Password", {
      name: "password", type: "password", minlength: kind === "setup" ? "10" : null,
      autocomplete: kind === "setup" ? "new-password" : "current-password",
    }),
    error, h("p", {}, submit));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    const body = { name: form.elements.name.value.trim(), password: form.elements.password.value };
    try {
      const answer = await post(`/api/auth/${kind}`, body);
      form.reset();
      onSuccess(answer.coach);
    } catch (err) {
      error.textContent = authMessage(err, kind);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  clear(root, form);
  return form;
}
