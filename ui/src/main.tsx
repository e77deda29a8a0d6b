/**
 * The recurd web console: the NC register, symptoms, one NC with its clause 10.2 record and
 * timeline, the forms people record their work with, connectors and dead letters, and the
 * management review. Everything it shows or changes goes through /api/v1 with the token the
 * person signed in with; the API decides what that token may do.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, forgetToken, getJson, keepToken, storedToken, whenUnauthorized, type Identity } from './api.js';
import { Link, Loading } from './components.js';
import { useLocation } from './router.js';
import { ConnectorsView } from './views/connectors.js';
import { NcPageView } from './views/nc.js';
import { RegisterView } from './views/register.js';
import { ReviewView } from './views/review.js';
import { SignIn } from './views/sign-in.js';
import { SymptomsView } from './views/symptoms.js';
import './style.css';

const SECTIONS = [
  { to: '/', label: 'Register', matches: (path: string) => path === '/' || path.startsWith('/nc/') },
  { to: '/symptoms', label: 'Symptoms', matches: (path: string) => path.startsWith('/symptoms') },
  { to: '/connectors', label: 'Connectors', matches: (path: string) => path.startsWith('/connectors') },
  { to: '/review', label: 'Management review', matches: (path: string) => path.startsWith('/review') },
];

function Page(props: { identity: Identity }) {
  const location = useLocation();
  const { path } = location;
  useEffect(() => {
    const section = SECTIONS.find((candidate) => candidate.matches(path));
    document.title = path.startsWith('/nc/') ? `${decodeURIComponent(path.slice(4))} · recurd` : `${section?.label ?? 'Not found'} · recurd`;
  }, [path]);
  if (path === '/') return <RegisterView location={location} identity={props.identity} />;
  if (path.startsWith('/nc/')) return <NcPageView id={decodeURIComponent(path.slice('/nc/'.length))} identity={props.identity} />;
  if (path === '/symptoms') return <SymptomsView location={location} />;
  if (path === '/connectors') return <ConnectorsView identity={props.identity} />;
  if (path === '/review') return <ReviewView location={location} />;
  return (
    <section class="panel">
      <h1>Not found</h1>
      <p>
        The console has no page at <code>{path}</code>. <Link to="/">Go to the register</Link>.
      </p>
    </section>
  );
}

function App() {
  const [identity, setIdentity] = useState<Identity | null>(null);
  const [checking, setChecking] = useState(storedToken() !== null);
  const [refusal, setRefusal] = useState<unknown>(null);
  const { path } = useLocation();

  const signOut = (why: unknown = null): void => {
    forgetToken();
    setIdentity(null);
    setRefusal(why);
  };

  useEffect(() => {
    whenUnauthorized((error) => signOut(error));
    const token = storedToken();
    if (token === null) return;
    getJson<Identity>('/whoami', token).then(
      (found) => {
        setIdentity(found);
        setChecking(false);
      },
      (error: unknown) => {
        if (error instanceof ApiError && error.status === 401) forgetToken();
        setRefusal(error);
        setChecking(false);
      },
    );
  }, []);

  const signIn = async (token: string): Promise<void> => {
    const found = await getJson<Identity>('/whoami', token);
    keepToken(token);
    setRefusal(null);
    setIdentity(found);
  };

  return (
    <>
      <header class="topbar">
        <div class="topbar-inner">
          <Link to="/" class="brand">
            <span class="brand-mark" aria-hidden="true">↻</span> recurd
          </Link>
          {identity !== null ? (
            <nav class="sections" aria-label="Sections">
              {SECTIONS.map((section) => (
                <Link key={section.to} to={section.to} class={section.matches(path) ? 'section active' : 'section'}>
                  {section.label}
                </Link>
              ))}
            </nav>
          ) : null}
          {identity !== null ? (
            <div class="who">
              <span class="who-name" data-testid="who">
                {identity.name}
              </span>
              <span class={`role role-${identity.role}`}>{identity.role}</span>
              <button type="button" class="link-button" onClick={() => signOut()}>
                Sign out
              </button>
            </div>
          ) : null}
        </div>
      </header>
      <main class="content">
        {checking ? <Loading what="your session" /> : identity === null ? <SignIn onSignIn={signIn} refusal={refusal} /> : <Page identity={identity} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
