import { currentSession } from '../auth';
import { h, link } from '../dom';
import type { PageContext } from '../router';
import { heading } from '../ui/common';

export default function mentoring(ctx: PageContext): void {
  heading(ctx, 'Mentoring and coaching');
  ctx.main.append(
    h('p', null, 'Experienced improvers across the system offer mentoring and coaching. Ask for help and Qnet proposes the mentor who suits you best; they get an email and can accept or decline.'),
    h('p', null, 'Asking for a mentor and offering to be one on the website are coming soon.'),
    currentSession() ? h('p', null, 'Meanwhile, ', link('/settings/profile', 'list yourself in the member directory'), ' so others can find you.') : h('p', null, link('/sign-in?return=/mentoring', 'Sign in'), ' to take part.'),
  );
}
