// A list of datasets as the catalogue and the home page show them.
import type { Dataset } from '../api/client';
import { t } from '../i18n';

// The access levels, most open first (kAccessLevels in src/data/catalog/datasets.h).
export const accessLevels: Dataset['access_level'][] = [
  'open',
  'registered',
  'consortium',
  'project',
  'restricted',
  'hidden',
];

export function AccessBadge({ level }: { level: Dataset['access_level'] }) {
  const label = t(`access.${level}` as const);
  return (
    <span class={`badge badge-${level}`} title={label}>
      {label.split(':')[0]}
    </span>
  );
}

export function DatasetList({ items, headingLevel = 2 }: { items: Dataset[]; headingLevel?: 2 | 3 }) {
  const H = headingLevel === 2 ? 'h2' : 'h3';
  return (
    <ul class="dataset-list">
      {items.map((d) => (
        <li key={d.id} class="dataset-item">
          <H class="dataset-item-title">
            <a href={`/datasets/${encodeURIComponent(d.id)}`}>{d.title || d.name}</a>
          </H>
          <p class="dataset-item-meta">
            <span class="mono">{d.name}</span>
            <span aria-hidden="true"> · </span>
            <span>{d.license}</span>
            <span aria-hidden="true"> · </span>
            <AccessBadge level={d.access_level} />
          </p>
          {d.description && <p class="dataset-item-description">{d.description}</p>}
          {d.tags.length > 0 && (
            <ul class="tags" aria-label={t('dataset.tags')}>
              {d.tags.map((tag) => (
                <li key={tag}>
                  <a class="tag" href={`/datasets?tag=${encodeURIComponent(tag)}`}>
                    {tag}
                  </a>
                </li>
              ))}
            </ul>
          )}
        </li>
      ))}
    </ul>
  );
}
