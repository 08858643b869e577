import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { ConnectionView, LastSignIn, LoginFailure } from '../../lib/bindings';
import * as api from '../../test/api-mock';
import { online } from '../../test/fixtures';
import Login from './Login.svelte';

vi.mock('../../lib/api', () => import('../../test/api-mock'));

function setup({ last = null, notice = null }: { last?: LastSignIn | null; notice?: string | null } = {}) {
  const onSignedIn = vi.fn<(view: ConnectionView) => void>();
  const user = userEvent.setup();
  const view = render(Login, { props: { last, notice, onSignedIn } });
  return {
    user,
    view,
    onSignedIn,
    hub: screen.getByTestId('login-hub'),
    login: screen.getByTestId('login-login'),
    password: screen.getByTestId('login-password'),
    remember: screen.getByTestId('login-remember'),
    submit: screen.getByTestId('login-submit'),
  };
}

describe('Login', () => {
  it('labels its fields', () => {
    setup();
    expect(screen.getByLabelText('Hub address')).toHaveAttribute('placeholder', 'hub.example.com:7878');
    expect(screen.getByLabelText('Login')).toHaveAttribute('type', 'text');
    expect(screen.getByLabelText('Password')).toHaveAttribute('type', 'password');
    const remember = screen.getByRole('checkbox', { name: 'Remember me' });
    expect(remember).not.toBeChecked();
    expect(remember).toHaveAccessibleDescription(/keeps your password in the system keychain/);
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeEnabled();
    expect(screen.getByRole('heading', { name: 'Huddle' })).toBeInTheDocument();
  });

  it('asks for empty fields without calling the backend', async () => {
    const { user, submit, hub, login, password } = setup();
    await user.type(login, '   ');
    await user.click(submit);

    expect(screen.getByText('Enter the address of your hub.')).toBeInTheDocument();
    expect(screen.getByText('Enter your login.')).toBeInTheDocument();
    expect(screen.getByText('Enter your password.')).toBeInTheDocument();
    for (const input of [hub, login, password]) {
      expect(input).toHaveAttribute('aria-invalid', 'true');
      expect(input).toHaveAccessibleDescription();
    }
    expect(hub).toHaveFocus();
    expect(api.login).not.toHaveBeenCalled();
    expect(screen.queryByTestId('login-error')).not.toBeInTheDocument();
  });

  it('asks only for the fields that are missing', async () => {
    const { user, submit, hub, login, password } = setup();
    await user.type(hub, 'hub.example.com:7878');
    await user.type(password, 'secret');
    await user.click(submit);

    expect(screen.getByText('Enter your login.')).toBeInTheDocument();
    expect(screen.queryByText('Enter the address of your hub.')).not.toBeInTheDocument();
    expect(hub).not.toHaveAttribute('aria-invalid');
    expect(login).toHaveAttribute('aria-invalid', 'true');
    expect(login).toHaveFocus();
    expect(api.login).not.toHaveBeenCalled();

    await user.type(login, 'a');
    expect(screen.queryByText('Enter your login.')).not.toBeInTheDocument();
    expect(login).not.toHaveAttribute('aria-invalid');
  });

  it('submits the trimmed values with Enter and hands over the connection', async () => {
    const view = online();
    vi.mocked(api.login).mockResolvedValue(view);
    const { user, onSignedIn, hub, login, password } = setup();

    await user.type(hub, '  hub.example.com:7878 ');
    await user.type(login, ' alice  ');
    await user.type(password, 'secret{Enter}');

    expect(api.login).toHaveBeenCalledTimes(1);
    expect(api.login).toHaveBeenCalledWith({
      hub: 'hub.example.com:7878',
      login: 'alice',
      password: 'secret',
      remember: false,
      unencrypted_ok: false,
      proxy: 'system',
    });
    await waitFor(() => expect(onSignedIn).toHaveBeenCalledWith(view));
  });

  it('signs in through the proxy the agent names, and explains a proxy that refuses', async () => {
    vi.mocked(api.login).mockRejectedValueOnce({
      message: 'The proxy http://proxy.corp:3128 asks for a user name and password.',
      field: 'proxy',
      unencrypted: false,
    });
    const { user, hub, login, password } = setup();
    await user.type(hub, 'hub.example.com:7878');
    await user.type(login, 'alice');
    await user.type(password, 'secret');
    expect(screen.queryByTestId('login-proxy-mode')).not.toBeInTheDocument();
    await user.click(screen.getByTestId('login-connection-toggle'));
    await user.selectOptions(screen.getByTestId('login-proxy-mode'), 'manual');
    await user.click(screen.getByTestId('login-submit'));
    expect(api.login).not.toHaveBeenCalled();
    expect(screen.getByTestId('login-proxy')).toHaveFocus();
    expect(screen.getByTestId('login-proxy')).toHaveAccessibleDescription(/Enter the proxy’s address/);

    await user.type(screen.getByTestId('login-proxy'), ' http://proxy.corp:3128 ');
    await user.click(screen.getByTestId('login-submit'));
    expect(api.login).toHaveBeenLastCalledWith(expect.objectContaining({ proxy: 'http://proxy.corp:3128' }));
    expect(await screen.findByTestId('login-error')).toHaveTextContent('asks for a user name and password');
    await waitFor(() => expect(screen.getByTestId('login-proxy')).toHaveFocus());
    expect(screen.getByTestId('login-proxy')).toHaveAttribute('aria-invalid', 'true');
  });

  it('opens with the connection settings of the last sign-in when they are not the usual ones', () => {
    setup({ last: { hub: 'h:1', login: 'alice', remember: false, proxy: 'socks5://agent@proxy.corp:1080' } });
    expect(screen.getByTestId('login-proxy-mode')).toHaveValue('manual');
    expect(screen.getByTestId('login-proxy')).toHaveValue('socks5://agent@proxy.corp:1080');
  });

  it('warns before a password would cross the network unencrypted, and signs in once the agent says so', async () => {
    const warning: LoginFailure = {
      message: 'ws://10.0.0.5:7878 is not an encrypted address: your password and your messages would cross the network where others could read them.',
      field: 'hub',
      unencrypted: true,
    };
    vi.mocked(api.login).mockRejectedValueOnce(warning).mockResolvedValueOnce(online());
    const { user, submit, hub, login, password, onSignedIn } = setup();
    await user.type(hub, 'ws://10.0.0.5:7878');
    await user.type(login, 'alice');
    await user.type(password, 'secret');
    await user.click(submit);

    expect(await screen.findByRole('alert')).toHaveTextContent('is not an encrypted address');
    expect(hub).toHaveAttribute('aria-invalid', 'true');
    expect(onSignedIn).not.toHaveBeenCalled();
    await user.click(screen.getByRole('button', { name: 'Sign in without encryption' }));
    expect(api.login).toHaveBeenLastCalledWith(expect.objectContaining({ hub: 'ws://10.0.0.5:7878', unencrypted_ok: true, proxy: 'system' }));
    await waitFor(() => expect(onSignedIn).toHaveBeenCalledTimes(1));
  });

  it('asks to be remembered when the box is ticked', async () => {
    vi.mocked(api.login).mockResolvedValue(online());
    const { user, hub, login, password, remember, submit } = setup();

    await user.type(hub, 'hub.example.com:7878');
    await user.type(login, 'alice');
    await user.type(password, 'secret');
    await user.click(screen.getByText('Remember me'));
    expect(remember).toBeChecked();
    await user.click(submit);

    expect(api.login).toHaveBeenCalledWith(expect.objectContaining({ login: 'alice', remember: true }));
  });

  it('shows that it is signing in', async () => {
    let finish: (view: ConnectionView) => void = () => {};
    vi.mocked(api.login).mockReturnValue(new Promise((resolve) => (finish = resolve)));
    const { user, submit, hub, login, password, onSignedIn } = setup();

    await user.type(hub, 'hub.example.com:7878');
    await user.type(login, 'alice');
    await user.type(password, 'secret');
    await user.click(submit);

    expect(submit).toBeDisabled();
    expect(submit).toHaveTextContent('Signing in…');
    await user.type(password, '{Enter}');
    expect(api.login).toHaveBeenCalledTimes(1);

    finish(online());
    await waitFor(() => expect(onSignedIn).toHaveBeenCalledTimes(1));
  });

  it('shows a login failure and points at its field', async () => {
    const failure: LoginFailure = {
      message: 'Wrong password for alice. Check it and try again.',
      field: 'password',
      unencrypted: false,
    };
    vi.mocked(api.login).mockRejectedValue(failure);
    const { user, submit, hub, login, password, onSignedIn } = setup();

    await user.type(hub, 'hub.example.com:7878');
    await user.type(login, 'alice');
    await user.type(password, 'wrong');
    await user.click(submit);

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(failure.message);
    expect(alert).toHaveAttribute('data-testid', 'login-error');
    expect(password).toHaveAttribute('aria-invalid', 'true');
    expect(hub).not.toHaveAttribute('aria-invalid');
    expect(login).not.toHaveAttribute('aria-invalid');
    await waitFor(() => expect(password).toHaveFocus());
    expect(submit).toBeEnabled();
    expect(submit).toHaveTextContent('Sign in');
    expect(onSignedIn).not.toHaveBeenCalled();
  });

  it('shows a failure that names no field', async () => {
    vi.mocked(api.login).mockRejectedValue({ message: 'The hub refused to sign you in.', field: null, unencrypted: false });
    const { user, submit, hub, login, password } = setup();

    await user.type(hub, 'hub.example.com:7878');
    await user.type(login, 'alice');
    await user.type(password, 'secret');
    await user.click(submit);

    expect(await screen.findByRole('alert')).toHaveTextContent('The hub refused to sign you in.');
    for (const input of [hub, login, password]) expect(input).not.toHaveAttribute('aria-invalid');
  });

  it('starts from the last sign-in, at the password', () => {
    const { hub, login, password, remember } = setup({
      last: { hub: 'hub.example.com:7878', login: 'alice', remember: true, proxy: 'system' },
    });
    expect(hub).toHaveValue('hub.example.com:7878');
    expect(login).toHaveValue('alice');
    expect(password).toHaveValue('');
    expect(remember).toBeChecked();
    expect(password).toHaveFocus();
  });

  it('keeps what the agent typed when the last sign-in is reported again', async () => {
    const { user, login, view } = setup({ last: { hub: 'h:1', login: 'alice', remember: false, proxy: 'system' } });
    await user.clear(login);
    await user.type(login, 'alicia');
    await view.rerender({ last: { hub: 'h:1', login: 'alice', remember: false, proxy: 'system' }, notice: 'Signed out.' });
    expect(login).toHaveValue('alicia');
  });

  it('shows a notice above the form', async () => {
    const { view } = setup({ notice: 'Your saved sign-in has ended. Sign in again.' });
    const notice = screen.getByTestId('login-notice');
    expect(notice).toHaveAttribute('role', 'status');
    expect(notice).toHaveTextContent('Your saved sign-in has ended. Sign in again.');
    const hub = screen.getByTestId('login-hub');
    expect(notice.compareDocumentPosition(hub)).toBe(Node.DOCUMENT_POSITION_FOLLOWING);

    await view.rerender({ last: null, notice: null });
    expect(screen.queryByTestId('login-notice')).not.toBeInTheDocument();
  });

  it('shows server text as text', async () => {
    vi.mocked(api.login).mockRejectedValue({ message: '<img src=x onerror=alert(1)>', field: 'hub', unencrypted: false });
    const { user, submit, hub, login, password } = setup();
    await user.type(hub, 'h:1');
    await user.type(login, 'a');
    await user.type(password, 'p');
    await user.click(submit);

    expect(await screen.findByRole('alert')).toHaveTextContent('<img src=x onerror=alert(1)>');
    expect(document.querySelector('img')).toBeNull();
  });
});
