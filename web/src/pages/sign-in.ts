import { ROLES, SignInRefused, safeReturn, signInCognito, signInLocal, type Role } from '../auth';
import { config } from '../config';
import { h } from '../dom';
import type { PageContext } from '../router';
import { heading } from '../ui/common';
import { clearErrors, showFieldErrors } from '../ui/errors';
import { button, busy, select, textInput, values } from '../ui/forms';

export default async function signIn(ctx: PageContext): Promise<void> {
  const back = safeReturn(ctx.query.get('return'));
  if (config().signIn === 'cognito') {
    heading(ctx, 'Sign in');
    ctx.main.append(h('p', null, 'You sign in to Qnet with your work email address.'));
    ctx.main.append(button('Sign in', { type: 'button', onclick: () => void signInCognito(back) }));
    return;
  }
  heading(ctx, 'Sign in');
  ctx.main.append(
    h('p', null, 'Use your work email address. Its domain must belong to an organisation in Qnet.'),
    h('p', { class: 'nhsuk-body-s' }, 'This local sign-in is for development on this computer: choose the role to try.'),
  );
  const form = h(
    'form',
    { method: 'post', novalidate: true },
    textInput({ field: 'email', label: 'Email address', type: 'email', autocomplete: 'email', width: '30' }),
    select({ field: 'role', label: 'Role', options: ROLES.map((r) => [r, r]), value: 'member' }),
    button('Sign in'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = values(form);
    const email = v.text('email');
    const role = v.text('role') as Role;
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
      showFieldErrors(ctx, [{ field: 'email', message: 'Enter an email address in the correct format, like name@example.nhs.uk' }]);
      return;
    }
    void busy(form, async () => {
      try {
        clearErrors(ctx);
        await signInLocal(email, role);
        ctx.navigate(back, { replace: true });
      } catch (err) {
        const message = err instanceof SignInRefused ? err.message : 'Sign-in is not available. Check that qnet serve is running.';
        showFieldErrors(ctx, [{ field: 'email', message }]);
      }
    });
  });
  ctx.main.append(form);
}
