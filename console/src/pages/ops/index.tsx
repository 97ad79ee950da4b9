// The operator's pages (/ops/...), for the centre's operators and auditors: the queue and the
// running jobs, utilisation per accelerator type, usage by organisation and project, hoarding,
// the organisations, users and projects, and the audit trail. Anyone else is told in words that
// these pages are not theirs; the API refuses them too.
import type { ComponentType } from 'preact';
import type { Key } from '../../i18n';
import { t } from '../../i18n';
import type { Location } from '../../router';
import { useSession } from '../../session';
import { usePage } from '../../components/usePage';
import { Audit } from './audit';
import { SignInFirst } from './common';
import { Hoarding } from './hoarding';
import { Jobs } from './jobs';
import { Orgs, Projects, Users } from './admin';
import { Usage } from './usage';
import { Utilisation } from './utilisation';
import { Loading } from '../../components/loading';

export interface SectionProps {
  location: Location;
  operator: boolean;
}

const sections: { path: string; label: Key; page: ComponentType<SectionProps> }[] = [
  { path: '/ops', label: 'ops.nav.jobs', page: Jobs },
  { path: '/ops/utilisation', label: 'ops.nav.utilisation', page: Utilisation },
  { path: '/ops/usage', label: 'ops.nav.usage', page: Usage },
  { path: '/ops/hoarding', label: 'ops.nav.hoarding', page: Hoarding },
  { path: '/ops/orgs', label: 'ops.nav.orgs', page: Orgs },
  { path: '/ops/users', label: 'ops.nav.users', page: Users },
  { path: '/ops/projects', label: 'ops.nav.projects', page: Projects },
  { path: '/ops/audit', label: 'ops.nav.audit', page: Audit },
];

export function mayOperate(roles: readonly string[] | undefined): boolean {
  return !!roles && (roles.includes('operator') || roles.includes('auditor'));
}

export function OpsPage({ location }: { location: Location }) {
  const session = useSession();
  const path = location.path.replace(/\/+$/, '') || '/ops';
  const section = sections.find((s) => s.path === path);
  const allowed = session.me ? mayOperate(session.me.platform_roles) : false;
  usePage(
    !session.known ? null : section && allowed ? `${t(section.label)} · ${t('ops.title')}` : t('ops.title'),
  );
  if (!session.known) {
    return (
      <Loading text="ops.loading" />
    );
  }
  if (!session.me) {
    const next = location.path + (location.query.toString() ? `?${location.query}` : '');
    return <SignInFirst title="ops.title" text="ops.signin" next={next} />;
  }
  if (!allowed) {
    return (
      <>
        <h1>{t('ops.title')}</h1>
        <div class="notice notice-error" role="alert">
          <p class="notice-summary">{t('ops.refused')}</p>
          <p>{t('ops.refused.why')}</p>
        </div>
      </>
    );
  }
  const operator = session.me.platform_roles.includes('operator');
  const Section = section?.page;
  return (
    <div class="ops">
      <h1>{section ? t(section.label) : t('ops.title')}</h1>
      <nav aria-label={t('ops.nav.label')} class="subnav">
        <ul>
          {sections.map((s) => (
            <li key={s.path}>
              <a href={s.path} aria-current={s.path === path ? 'page' : undefined}>
                {t(s.label)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {Section ? (
        <Section location={location} operator={operator} />
      ) : (
        <p>
          {t('notfound.text')} <a href="/ops">{t('ops.nav.jobs')}</a>
        </p>
      )}
    </div>
  );
}
