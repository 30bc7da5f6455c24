import { completeCognitoSignIn } from '../auth';
import { h, link } from '../dom';
import type { PageContext } from '../router';
import { heading } from '../ui/common';

export default async function callback(ctx: PageContext): Promise<void> {
  try {
    const back = await completeCognitoSignIn();
    ctx.navigate(back, { replace: true });
  } catch (err) {
    console.error(err);
    heading(ctx, 'Sign-in did not finish');
    ctx.main.append(h('p', null, 'The sign-in could not be completed. ', link('/sign-in', 'Try signing in again'), '.'));
  }
}
