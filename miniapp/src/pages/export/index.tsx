import { Button, Text, View } from '@tarojs/components';
import type { PassengerExport } from '@ridetrace/shared';
import Taro from '@tarojs/taro';
import { useState, type ReactNode } from 'react';
import { ErrorNotice } from '../../components/ErrorNotice';
import { RideLine } from '../../components/RideLine';
import { usePageTitle } from '../../hooks/usePageTitle';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/api';
import { formatDate, formatDateTime } from '../../services/format';
import { useLang } from '../../services/i18n-core';
import { useT, type MessageKey } from '../../services/messages';

type Saved = { kind: 'downloaded'; file: string } | { kind: 'copied' } | { kind: 'failed' };

/** h5: the export as a JSON file the browser downloads (an object URL, freed once the download has started). */
function downloadJson(file: string, json: string): void {
  const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = file;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/**
 * Saves the export as JSON: a file download in h5; in weapp the clipboard, which WeChat lets the passenger paste into
 * a chat or a note (a file written with getFileSystemManager stays in the app's sandbox, out of the passenger's reach).
 */
async function saveExport(data: PassengerExport): Promise<Saved> {
  const json = JSON.stringify(data, null, 2);
  if (process.env.TARO_ENV === 'h5') {
    const file = `ridetrace-export-${formatDate(data.generatedAt)}.json`;
    downloadJson(file, json);
    return { kind: 'downloaded', file };
  }
  await Taro.setClipboardData({ data: json });
  return { kind: 'copied' };
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <View className="row">
      <Text className="row__label">{label}</Text>
      <Text className="row__value">{children}</Text>
    </View>
  );
}

function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <View className="card" id={id} role="region" aria-label={title}>
      <Text className="subtitle">{title}</Text>
      {children}
    </View>
  );
}

/** Everything the server holds about the passenger (GET /v1/passengers/me/export), readable, and saved as JSON. */
function ExportView({ data }: { data: PassengerExport }) {
  const t = useT();
  const lang = useLang();
  const [saved, setSaved] = useState<Saved | null>(null);
  const p = data.passenger;
  const none = t('export.none');
  const h5 = process.env.TARO_ENV === 'h5';
  const save = async () => {
    try {
      setSaved(await saveExport(data));
    } catch {
      setSaved({ kind: 'failed' });
    }
  };

  return (
    <View>
      <Text className="hint">{t('export.generatedAt', { time: formatDateTime(data.generatedAt) })}</Text>
      <View className="card" id="export-save">
        <Button
          className="btn"
          onClick={() => void save()}
          aria-label={t(h5 ? 'export.download' : 'export.copy')}
        >
          {t(h5 ? 'export.download' : 'export.copy')}
        </Button>
        <Text className="hint">{t('export.saveHint')}</Text>
        {saved && (
          <View className={`notice notice--${saved.kind === 'failed' ? 'error' : 'info'}`} role="status">
            <Text className="notice__text">
              {saved.kind === 'downloaded'
                ? t('export.downloaded', { file: saved.file })
                : t(saved.kind === 'copied' ? 'export.copied' : 'export.saveFailed')}
            </Text>
          </View>
        )}
      </View>

      <Section id="export-profile" title={t('export.profile')}>
        <Row label={t('confirm.name')}>{p.name ?? none}</Row>
        <Row label={t('confirm.phone')}>{p.phone ?? none}</Row>
        <Row label={t('confirm.idType')}>{p.idType ? t(`idType.${p.idType}`) : none}</Row>
        <Row label={t('export.idNumber')}>{p.idNumber ?? none}</Row>
        <Row label={t('export.registration')}>{t(`export.registration.${p.registration}`)}</Row>
        <Row label={t('export.superApp')}>{t(p.superAppLinked ? 'export.yes' : 'export.no')}</Row>
        <Row label={t('export.consent')}>
          {p.consentVersion
            ? `${p.consentVersion}${p.consentedAt ? ` · ${formatDateTime(p.consentedAt)}` : ''}`
            : none}
        </Row>
        <Row label={t('export.createdAt')}>{formatDateTime(p.createdAt)}</Row>
      </Section>

      <Section id="export-rides" title={t('export.rides', { n: data.rides.length })}>
        <Text className="hint">{t('export.ridesHint', { d: data.retentionDays })}</Text>
        {data.rides.length === 0 && <Text className="empty">{t('export.ridesEmpty')}</Text>}
        {data.rides.length > 0 && (
          <View role="list" aria-label={t('export.rides', { n: data.rides.length })}>
            {data.rides.map((r) => (
              <View key={r.id} className="row" role="listitem">
                <Text className="row__label">{formatDateTime(r.boardedAt)}</Text>
                <Text className="row__value">
                  {t(`kind.${r.carrier.kind}`)} {r.carrier.plate}
                  {r.carrier.route ? ` · ${r.carrier.route}` : ''} · {r.carrier.city} ·{' '}
                  {t(`export.source.${r.source}`)}
                </Text>
              </View>
            ))}
          </View>
        )}
      </Section>

      <Section id="export-status" title={t('status.title')}>
        <Row label={t(`status.${data.status.colour}`)}>{t(`status.reason.${data.status.reason}`)}</Row>
        {data.status.since && (
          <Text className="hint">{t('status.since', { d: formatDateTime(data.status.since) })}</Text>
        )}
        {data.status.validUntil && (
          <Text className="hint">{t('status.until', { d: formatDateTime(data.status.validUntil) })}</Text>
        )}
      </Section>

      <Section id="export-notifications" title={t('export.notifications', { n: data.notifications.length })}>
        {data.notifications.length === 0 && <Text className="empty">{t('inbox.empty')}</Text>}
        {data.notifications.length > 0 && (
          <View role="list" aria-label={t('export.notifications', { n: data.notifications.length })}>
            {data.notifications.map((n) => {
              const kind: MessageKey = n.kind === 'secondary_exposure' ? 'inbox.secondary' : 'inbox.exposure';
              return (
                <View key={n.id} role="listitem">
                  <Row label={formatDateTime(n.createdAt)}>
                    {t(kind)} · {t(`inbox.level.${n.exposure.level}`)}
                  </Row>
                  <RideLine ride={n.exposure} />
                  <Text className="hint">{n.advice[lang]}</Text>
                </View>
              );
            })}
          </View>
        )}
      </Section>

      <Section id="export-access-log" title={t('settings.accessLog')}>
        {data.accessLog.length === 0 && <Text className="empty">{t('settings.accessLogEmpty')}</Text>}
        {data.accessLog.length > 0 && (
          <View role="list" aria-label={t('settings.accessLog')}>
            {data.accessLog.map((e, i) => (
              <View key={`${e.at}-${e.purpose}-${i}`} role="listitem">
                <Row label={formatDateTime(e.at)}>{e.agency}</Row>
                <Text className="hint">{t(`settings.accessPurpose.${e.purpose}`)}</Text>
              </View>
            ))}
          </View>
        )}
      </Section>
    </View>
  );
}

/** "Export my data": what the server holds about me, as it gives it, and a JSON copy to keep. */
export default function ExportPage() {
  usePageTitle('export.title');
  const t = useT();
  const [data, reload] = useRemote(() => api().exportMyData());

  return (
    <View className="page export">
      <Text className="title">{t('export.title')}</Text>
      <Text className="hint">{t('export.hint')}</Text>
      {data.state === 'loading' && <Text className="loading">{t('common.loading')}</Text>}
      {data.state === 'error' && <ErrorNotice error={data.error} onRetry={reload} />}
      {data.state === 'ok' && <ExportView data={data.data} />}
    </View>
  );
}
