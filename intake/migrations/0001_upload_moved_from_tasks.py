"""Upload moves from tasks to intake: state only, the tables keep their names."""

import django.db.models.deletion
import intake.models
import simple_history.models
import tasks.clock
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    # The tables tasks_upload and tasks_historicalupload exist (tasks 0001/0006): no SQL.

    initial = True

    dependencies = [
        ('tasks', '0010_job_run'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='HistoricalUpload',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('history_source', models.CharField(blank=True, max_length=100, verbose_name='来源')),
                        ('history_upload_id', models.BigIntegerField(blank=True, null=True, verbose_name='来自上传')),
                        ('kind', models.CharField(max_length=30, verbose_name='表格类型')),
                        ('file', models.TextField(max_length=200, verbose_name='原始文件')),
                        ('original_name', models.CharField(max_length=200, verbose_name='原文件名')),
                        ('size', models.PositiveBigIntegerField(verbose_name='大小（字节）')),
                        ('sha256', models.CharField(db_index=True, max_length=64, verbose_name='文件摘要')),
                        ('period', models.DateField(blank=True, null=True, verbose_name='所属月份')),
                        ('state', models.CharField(choices=[('received', '已接收'), ('validating', '校验中'), ('previewed', '待确认'), ('rejected', '已拒收'), ('applying', '导入中'), ('applied', '已导入'), ('cancelled', '已取消'), ('failed', '处理失败')], default='received', max_length=12, verbose_name='状态')),
                        ('rows_total', models.PositiveIntegerField(default=0, verbose_name='数据行数')),
                        ('rows_accepted', models.PositiveIntegerField(default=0, verbose_name='可导入行数')),
                        ('rows_rejected', models.PositiveIntegerField(default=0, verbose_name='有误行数')),
                        ('rows_skipped', models.PositiveIntegerField(default=0, verbose_name='重复跳过行数')),
                        ('file_error', models.TextField(blank=True, verbose_name='文件错误')),
                        ('result', models.JSONField(blank=True, default=dict, verbose_name='导入结果')),
                        ('created_at', tasks.clock.DateTimeField(blank=True, editable=False, verbose_name='上传时间')),
                        ('validated_at', models.DateTimeField(blank=True, null=True, verbose_name='校验时间')),
                        ('applied_at', models.DateTimeField(blank=True, null=True, verbose_name='导入时间')),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('unit', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tasks.unit', verbose_name='上传单位')),
                        ('uploaded_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='上传人')),
                    ],
                    options={
                        'verbose_name': 'historical 上传文件',
                        'verbose_name_plural': 'historical 上传文件',
                        'db_table': 'tasks_historicalupload',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='Upload',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(max_length=30, verbose_name='表格类型')),
                        ('file', models.FileField(max_length=200, upload_to=intake.models.upload_path, verbose_name='原始文件')),
                        ('original_name', models.CharField(max_length=200, verbose_name='原文件名')),
                        ('size', models.PositiveBigIntegerField(verbose_name='大小（字节）')),
                        ('sha256', models.CharField(db_index=True, max_length=64, verbose_name='文件摘要')),
                        ('period', models.DateField(blank=True, null=True, verbose_name='所属月份')),
                        ('state', models.CharField(choices=[('received', '已接收'), ('validating', '校验中'), ('previewed', '待确认'), ('rejected', '已拒收'), ('applying', '导入中'), ('applied', '已导入'), ('cancelled', '已取消'), ('failed', '处理失败')], default='received', max_length=12, verbose_name='状态')),
                        ('progress_done', models.PositiveIntegerField(default=0, verbose_name='已处理行数')),
                        ('progress_total', models.PositiveIntegerField(default=0, verbose_name='总行数')),
                        ('progress_stage', models.CharField(blank=True, max_length=50, verbose_name='处理阶段')),
                        ('rows_total', models.PositiveIntegerField(default=0, verbose_name='数据行数')),
                        ('rows_accepted', models.PositiveIntegerField(default=0, verbose_name='可导入行数')),
                        ('rows_rejected', models.PositiveIntegerField(default=0, verbose_name='有误行数')),
                        ('rows_skipped', models.PositiveIntegerField(default=0, verbose_name='重复跳过行数')),
                        ('file_error', models.TextField(blank=True, verbose_name='文件错误')),
                        ('errors', models.JSONField(blank=True, default=list, verbose_name='行错误')),
                        ('skipped', models.JSONField(blank=True, default=list, verbose_name='跳过的行')),
                        ('preview', models.JSONField(blank=True, default=dict, verbose_name='预览')),
                        ('result', models.JSONField(blank=True, default=dict, verbose_name='导入结果')),
                        ('created_at', tasks.clock.DateTimeField(auto_now_add=True, verbose_name='上传时间')),
                        ('validated_at', models.DateTimeField(blank=True, null=True, verbose_name='校验时间')),
                        ('applied_at', models.DateTimeField(blank=True, null=True, verbose_name='导入时间')),
                        ('queued_at', models.DateTimeField(blank=True, null=True, verbose_name='最近派发时间')),
                        ('heartbeat_at', models.DateTimeField(blank=True, null=True, verbose_name='处理心跳')),
                        ('unit', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='uploads', to='tasks.unit', verbose_name='上传单位')),
                        ('uploaded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='uploads', to=settings.AUTH_USER_MODEL, verbose_name='上传人')),
                    ],
                    options={
                        'verbose_name': '上传文件',
                        'verbose_name_plural': '上传文件',
                        'db_table': 'tasks_upload',
                        'ordering': ['-created_at'],
                        'indexes': [models.Index(fields=['kind', 'state'], name='tasks_uploa_kind_6f35a4_idx')],
                    },
                ),
            ],
        ),
    ]
