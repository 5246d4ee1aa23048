import { InboxOutlined } from '@ant-design/icons';
import { RideTraceError } from '@ridetrace/sdk';
import type { CARRIER_IMPORT_MAX_SLICE, CarrierImportResult, CsvProblem } from '@ridetrace/shared';
import {
  Alert,
  Button,
  Descriptions,
  Form,
  Modal,
  Progress,
  Result,
  Select,
  Space,
  Table,
  Typography,
  Upload,
} from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useApi } from '../../api.js';
import { errorText } from '../../errors.js';
import { useT } from '../../i18n/index.js';

/** Rows one import request writes: the API's most. */
export const IMPORT_SLICE: typeof CARRIER_IMPORT_MAX_SLICE = 2000;
/** The largest file the API takes (its `csv` is at most 4,000,000 characters; a UTF-8 byte is at most one). */
export const MAX_FILE_BYTES = 4_000_000;

interface Totals {
  created: number;
  updated: number;
  unchanged: number;
}
const NONE: Totals = { created: 0, updated: 0, unchanged: 0 };

type Phase =
  | { step: 'pick'; error?: unknown }
  | { step: 'checking' }
  | { step: 'problems'; problems: CsvProblem[]; total: number; message: string }
  | { step: 'ready'; preview: CarrierImportResult }
  | { step: 'writing'; rows: number; done: number; totals: Totals }
  | { step: 'failed'; rows: number; done: number; totals: Totals; error: unknown }
  | { step: 'done'; rows: number; totals: Totals };

/** The file's text (FileReader: every browser the console supports, and jsdom). */
function readText(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error ?? new Error('unreadable file'));
    reader.readAsText(file, 'utf-8');
  });
}

const add = (a: Totals, r: CarrierImportResult): Totals => ({
  created: a.created + r.created,
  updated: a.updated + r.updated,
  unchanged: a.unchanged + r.unchanged,
});

/**
 * CSV import of carriers: a dry run of the whole file first (a bad row refuses it: every problem in a table, nothing
 * written), then the file written in slices of IMPORT_SLICE rows with a progress bar, then what changed. Rows are
 * upserted by operator and plate, so a stopped import is safely continued by running the same file again.
 */
export function ImportModal({
  isAdmin,
  operatorOptions,
  onClose,
  onImported,
}: {
  isAdmin: boolean;
  operatorOptions: { value: string; label: string }[];
  onClose: () => void;
  onImported: () => void;
}) {
  const t = useT();
  const api = useApi();
  const [file, setFile] = useState<{ name: string; csv: string } | null>(null);
  const [operatorId, setOperatorId] = useState<string | undefined>(undefined);
  const [phase, setPhase] = useState<Phase>({ step: 'pick' });
  const [fileError, setFileError] = useState<string | null>(null);
  const closed = useRef(false);
  useEffect(
    () => () => {
      closed.current = true;
    },
    [],
  );

  const scope = isAdmin && operatorId ? { operatorId } : {};

  const choose = async (f: File) => {
    setPhase({ step: 'pick' });
    setFile(null);
    if (f.size > MAX_FILE_BYTES) {
      setFileError(t('import.tooLarge', { name: f.name }));
      return;
    }
    try {
      setFile({ name: f.name, csv: await readText(f) });
      setFileError(null);
    } catch {
      setFileError(t('import.unreadable', { name: f.name }));
    }
  };

  const check = async () => {
    if (!file) return;
    setPhase({ step: 'checking' });
    try {
      const preview = await api.importCarriers({ csv: file.csv, ...scope, dryRun: true });
      if (!closed.current) setPhase({ step: 'ready', preview });
    } catch (err) {
      if (closed.current) return;
      if (err instanceof RideTraceError && err.code === 'csv_rows_invalid' && err.problems)
        setPhase({
          step: 'problems',
          problems: err.problems.items,
          total: err.problems.total,
          message: err.message,
        });
      else setPhase({ step: 'pick', error: err });
    }
  };

  /** Writes the slices from row `from` on, one request after another. */
  const write = async (rows: number, from: number, totals: Totals) => {
    if (!file) return;
    let done = from;
    let sum = totals;
    setPhase({ step: 'writing', rows, done, totals: sum });
    while (done < rows) {
      const count = Math.min(IMPORT_SLICE, rows - done);
      try {
        const r = await api.importCarriers({ csv: file.csv, ...scope, from: done, count });
        sum = add(sum, r);
        done += count;
      } catch (err) {
        if (!closed.current) setPhase({ step: 'failed', rows, done, totals: sum, error: err });
        if (done > 0) onImported();
        return;
      }
      if (closed.current) return;
      setPhase({ step: 'writing', rows, done, totals: sum });
    }
    setPhase({ step: 'done', rows, totals: sum });
    onImported();
  };

  const writing = phase.step === 'writing';
  const footer = (() => {
    switch (phase.step) {
      case 'writing':
        return null;
      case 'done':
        return (
          <Button type="primary" onClick={onClose}>
            {t('import.close')}
          </Button>
        );
      case 'failed':
        return (
          <Space>
            <Button onClick={onClose}>{t('import.close')}</Button>
            <Button type="primary" onClick={() => void write(phase.rows, phase.done, phase.totals)}>
              {t('import.continue')}
            </Button>
          </Space>
        );
      case 'ready':
        return (
          <Space>
            <Button onClick={onClose}>{t('common.cancel')}</Button>
            <Button
              type="primary"
              disabled={phase.preview.rows === 0}
              onClick={() => void write(phase.preview.rows, 0, NONE)}
            >
              {t('import.write', { rows: phase.preview.rows })}
            </Button>
          </Space>
        );
      default:
        return (
          <Space>
            <Button onClick={onClose}>{t('common.cancel')}</Button>
            <Button
              type="primary"
              disabled={!file}
              loading={phase.step === 'checking'}
              onClick={() => void check()}
            >
              {t('import.check')}
            </Button>
          </Space>
        );
    }
  })();

  return (
    <Modal
      open
      title={t('import.title')}
      width={720}
      footer={footer}
      onCancel={onClose}
      closable={!writing}
      maskClosable={false}
      keyboard={!writing}
    >
      <Space direction="vertical" size={16} style={{ width: '100%' }}>
        {(phase.step === 'pick' || phase.step === 'checking' || phase.step === 'problems') && (
          <>
            <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
              {t('import.intro')}
            </Typography.Paragraph>
            <Typography.Text code>kind,plate,route,city{isAdmin ? ',operator' : ''}</Typography.Text>
            {isAdmin && (
              <Form name="import" layout="vertical">
                <Form.Item
                  label={t('carriers.operator')}
                  htmlFor="import-operator"
                  extra={t('import.operatorHint')}
                  style={{ marginBottom: 0 }}
                >
                  <Select<string>
                    id="import-operator"
                    allowClear
                    showSearch
                    optionFilterProp="label"
                    aria-label={t('carriers.operator')}
                    value={operatorId}
                    onChange={(v) => {
                      setOperatorId(v);
                      setPhase({ step: 'pick' });
                    }}
                    options={operatorOptions}
                  />
                </Form.Item>
              </Form>
            )}
            <Upload.Dragger
              accept=".csv,text/csv"
              multiple={false}
              showUploadList={false}
              disabled={phase.step === 'checking'}
              beforeUpload={(f) => {
                void choose(f);
                return Upload.LIST_IGNORE;
              }}
            >
              <p className="ant-upload-drag-icon">
                <InboxOutlined />
              </p>
              <p className="ant-upload-text">{t('import.pick')}</p>
              <p className="ant-upload-hint">{t('import.pickHint')}</p>
            </Upload.Dragger>
            {file && (
              <Typography.Text data-testid="import-file">
                {t('import.chosen', { name: file.name })}
              </Typography.Text>
            )}
            {fileError && <Alert type="error" showIcon role="alert" message={fileError} />}
          </>
        )}
        {phase.step === 'pick' && phase.error !== undefined && (
          <Alert
            type="error"
            showIcon
            role="alert"
            message={t('import.invalid')}
            description={errorText(phase.error, t)}
          />
        )}
        {phase.step === 'problems' && <Problems {...phase} />}
        {phase.step === 'ready' &&
          (phase.preview.rows === 0 ? (
            <Alert type="warning" showIcon message={t('import.noRows')} />
          ) : (
            <>
              <Alert type="success" showIcon message={t('import.clean', { rows: phase.preview.rows })} />
              <Summary title={t('import.preview')} totals={phase.preview} />
            </>
          ))}
        {(phase.step === 'writing' || phase.step === 'failed') && (
          <>
            <Typography.Text>{t('import.progress', { done: phase.done, rows: phase.rows })}</Typography.Text>
            <Progress
              percent={Math.floor((phase.done / phase.rows) * 100)}
              status={phase.step === 'failed' ? 'exception' : 'active'}
              aria-label={t('import.progressLabel')}
            />
          </>
        )}
        {phase.step === 'failed' && (
          <Alert
            type="error"
            showIcon
            role="alert"
            message={errorText(phase.error, t)}
            description={t('import.resumeSafe', { done: phase.done, rows: phase.rows })}
          />
        )}
        {phase.step === 'done' && (
          <Result
            status="success"
            title={t('import.done', { rows: phase.rows })}
            extra={<Summary title={t('import.summary')} totals={phase.totals} />}
          />
        )}
      </Space>
    </Modal>
  );
}

function Summary({ title, totals }: { title: string; totals: Totals }) {
  const t = useT();
  return (
    <Descriptions title={title} column={3} size="small" bordered>
      <Descriptions.Item label={t('import.created')}>{totals.created}</Descriptions.Item>
      <Descriptions.Item label={t('import.updated')}>{totals.updated}</Descriptions.Item>
      <Descriptions.Item label={t('import.unchanged')}>{totals.unchanged}</Descriptions.Item>
    </Descriptions>
  );
}

function Problems({ problems, total, message }: { problems: CsvProblem[]; total: number; message: string }) {
  const t = useT();
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Alert
        type="error"
        showIcon
        role="alert"
        message={message}
        description={
          total > problems.length
            ? t('import.problemsSome', { total, shown: problems.length })
            : t('import.problemsAll', { total })
        }
      />
      <Table<CsvProblem>
        size="small"
        rowKey={(p) => `${p.line}:${p.field}:${p.message}`}
        dataSource={problems}
        pagination={{ pageSize: 10, hideOnSinglePage: true, showSizeChanger: false }}
        columns={[
          { title: t('import.line'), dataIndex: 'line', width: 80 },
          { title: t('import.field'), dataIndex: 'field', width: 120 },
          { title: t('import.message'), dataIndex: 'message' },
        ]}
      />
    </Space>
  );
}
